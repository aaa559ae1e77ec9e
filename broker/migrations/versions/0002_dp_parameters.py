"""differential-privacy parameters on share requests and grants (PRIV-5)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("share_requests", "grants"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("dp_epsilon", sa.Float(), nullable=False, server_default="0"))
            batch.add_column(sa.Column("dp_budget", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in ("share_requests", "grants"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("dp_budget")
            batch.drop_column("dp_epsilon")
