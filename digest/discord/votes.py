"""A 👍/👎 button pressed in Discord → whose vote it is, recorded through digest.services.feedback.

Called by bot.feedback's button callback (in a worker thread). In a DM the vote is the member's own
(their discord_user subscriber). In a server channel the channel's subscription collects it under
the member's id (so each member's vote stays theirs) and, when the member also has their own
subscriptions, it counts for them too. Pressing the same button again withdraws the vote.
"""

from __future__ import annotations

from digest.services import feedback
from digest.services.errors import InvalidInput
from digest.services.subscribers import find_subscriber
from storage.db import Database
from storage.models import SubscriberKind


def discord_vote(db: Database, *, user_id: str, channel_id: str, in_dm: bool, paper_id: int, vote: int) -> str:
    """Record (or, pressed again, withdraw) the vote; returns the one-line ephemeral acknowledgement."""
    own = find_subscriber(db, SubscriberKind.DISCORD_USER.value, user_id)
    channel = None if in_dm else find_subscriber(db, SubscriberKind.DISCORD_CHANNEL.value, channel_id)
    targets = [(s.id, voter) for s, voter in ((channel, user_id), (own, "")) if s is not None and s.id is not None]
    # The post's own subscriber (the channel, or the member in a DM) must have been sent this paper.
    if not targets or not feedback.was_delivered(db, targets[0][0] or 0, paper_id):
        raise InvalidInput("This paper was not posted for a paperbell subscription of yours or of this channel.")
    withdraw = all(feedback.vote_of(db, sid, paper_id, voter=voter) == vote for sid, voter in targets)
    for subscriber_id, voter in targets:
        if withdraw:
            feedback.withdraw_vote(db, subscriber_id, paper_id, voter=voter)
        else:
            feedback.record_vote(db, subscriber_id, paper_id, vote, voter=voter, channel="discord")
    mark = "👍" if vote > 0 else "👎"
    done = f"{mark} withdrawn" if withdraw else f"{mark} recorded"
    where = " for this channel" + (" and your own digests" if own is not None else "") if channel else ""
    counts = feedback.vote_counts(db, targets[0][0])
    return f"{done}{where} — {counts.describe()}. Press again to withdraw."
