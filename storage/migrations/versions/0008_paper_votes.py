"""feedback: 👍/👎 votes per (subscriber, paper, voter) and per-subscription digest limits

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("vote", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("vote IN (-1, 1)", name="ck_paper_vote_sign"),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscriber_id", "paper_id", "voter", name="uq_paper_vote_subscriber_paper_voter"),
    )
    op.create_index(op.f("ix_paper_votes_paper_id"), "paper_votes", ["paper_id"], unique=False)
    op.create_index(op.f("ix_paper_votes_subscriber_id"), "paper_votes", ["subscriber_id"], unique=False)
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_items", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("min_score", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("min_score")
        batch_op.drop_column("max_items")
    op.drop_index(op.f("ix_paper_votes_subscriber_id"), table_name="paper_votes")
    op.drop_index(op.f("ix_paper_votes_paper_id"), table_name="paper_votes")
    op.drop_table("paper_votes")
