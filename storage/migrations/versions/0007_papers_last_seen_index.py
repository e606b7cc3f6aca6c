"""web front: index papers.last_seen_at (the page caches' store fingerprint reads its max per request)

Revision ID: 0007
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_papers_last_seen_at"), "papers", ["last_seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_papers_last_seen_at"), table_name="papers")
