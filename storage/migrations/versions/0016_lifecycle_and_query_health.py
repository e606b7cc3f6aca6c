"""lifecycle: paper events, who was told of them, per-subscription opt-in, query health

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("paper_id", "kind", "key", name="uq_paper_events_paper_kind_key"),
    )
    op.create_index(op.f("ix_paper_events_paper_id"), "paper_events", ["paper_id"], unique=False)
    op.create_index(op.f("ix_paper_events_created_at"), "paper_events", ["created_at"], unique=False)
    op.create_table(
        "update_notices",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["paper_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "event_id"),
    )
    op.create_table(
        "subscription_updates",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id"),
    )
    op.create_table(
        "query_health",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("near_misses", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("silent_noted_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id"),
    )


def downgrade() -> None:
    op.drop_table("query_health")
    op.drop_table("subscription_updates")
    op.drop_table("update_notices")
    op.drop_index(op.f("ix_paper_events_created_at"), table_name="paper_events")
    op.drop_index(op.f("ix_paper_events_paper_id"), table_name="paper_events")
    op.drop_table("paper_events")
