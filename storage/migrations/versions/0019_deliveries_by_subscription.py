"""deliveries: an index by subscription and creation time, so reading a query's recent matches (query health,
with every batch of digests) and deleting a subscription no longer read the whole ledger

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deliveries_subscription_created", "deliveries",
                    ["subscription_id", "created_at", "status"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_subscription_created", table_name="deliveries")
