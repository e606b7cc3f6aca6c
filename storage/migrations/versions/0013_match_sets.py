"""matching: pending matches stored compactly per (subscriber, batch), expanded at delivery

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("paper_ids", sa.LargeBinary(), nullable=False),
        sa.Column("subscription_ids", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_match_sets_subscriber_id"), "match_sets", ["subscriber_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_match_sets_subscriber_id"), table_name="match_sets")
    op.drop_table("match_sets")
