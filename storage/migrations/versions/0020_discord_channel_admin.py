"""discord: a channel's message template, embed colour and daily cap

Revision ID: 0020
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL = today's behaviour (the built-in embed text and colour, no cap) for every existing channel
    with op.batch_alter_table("discord_targets") as batch:
        batch.add_column(sa.Column("template", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("embed_color", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("daily_cap", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("discord_targets") as batch:
        batch.drop_column("daily_cap")
        batch.drop_column("embed_color")
        batch.drop_column("template")
