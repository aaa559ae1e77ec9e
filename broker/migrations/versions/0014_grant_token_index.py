"""an index on grants.token: the relay finds the grant a query names without reading every grant

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_grants_token", "grants", ["token"])


def downgrade() -> None:
    op.drop_index("ix_grants_token", table_name="grants")
