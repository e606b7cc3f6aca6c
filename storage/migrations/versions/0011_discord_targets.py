"""discord: per-channel target kind, style, role mention and webhook identity

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discord_targets",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("style", sa.String(length=16), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=True),
        sa.Column("thread_id", sa.String(length=32), nullable=True),
        sa.Column("open_thread", sa.Boolean(), nullable=False),
        sa.Column("forum_tags", sa.Boolean(), nullable=False),
        sa.Column("webhook_id", sa.String(length=32), nullable=True),
        sa.Column("webhook_token", sa.String(length=128), nullable=True),
        sa.Column("webhook_name", sa.String(length=80), nullable=True),
        sa.Column("webhook_avatar", sa.String(length=512), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id"),
    )


def downgrade() -> None:
    op.drop_table("discord_targets")
