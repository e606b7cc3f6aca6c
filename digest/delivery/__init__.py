"""What email and Discord delivery share: ledger rows → digest items, schedule slots, Discord message rendering.

Below both `digest/services` and `bot/`, so neither channel reaches into the other's modules.
"""
