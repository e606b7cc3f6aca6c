"""web: a visitor's ▲ on a paper (one per paper and browser), paperbell's own trending signal

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visitor_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("paper_id", "visitor", name="uq_visitor_vote_paper_visitor"),
    )
    op.create_index(op.f("ix_visitor_votes_paper_id"), "visitor_votes", ["paper_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_visitor_votes_paper_id"), table_name="visitor_votes")
    op.drop_table("visitor_votes")
