"""sources: other names of a paper (journal/preprint DOIs, PMIDs, OpenAlex and Semantic Scholar ids)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # papers stored before this table existed are still found by their canonical id and DOI columns
    op.create_table(
        "paper_aliases",
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alias"),
    )
    op.create_index(op.f("ix_paper_aliases_paper_id"), "paper_aliases", ["paper_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_aliases_paper_id"), table_name="paper_aliases")
    op.drop_table("paper_aliases")
