"""How far back a stored paper can still be matched: the bounds every path that writes ledger rows shares.

Pure. A new subscription's backfill reaches at most `BACKFILL_MAX_DAYS` back (the setting, the CLI,
the web form and the Discord command all cap it here), the trending pick looks one day back, and a
new version or a late cross-list updates the paper already stored instead of adding one. So a paper
first seen more than `MATCHABLE_DAYS` ago can never get a new ledger row, and the ledger's closed
rows for it can be pruned without risking a second delivery (`paperbell ledger prune`).
"""

from __future__ import annotations

BACKFILL_MAX_DAYS = 90
TRENDING_DAYS = 1
# backfill's maximum, the trending window, and one day of margin for clocks and a late cycle
MATCHABLE_DAYS = BACKFILL_MAX_DAYS + TRENDING_DAYS + 1
# how long `paperbell ledger prune` keeps closed rows by default: twice the matchable window, rounded
DEFAULT_RETENTION_DAYS = 180
