"""email: per-subscriber send failures, backoff and the last failure reason

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("retry_after", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_send_error", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("last_send_error")
        batch_op.drop_column("retry_after")
        batch_op.drop_column("send_failures")
