"""typical use cases of shared data (Art.31)

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "typical_cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False, index=True),
        sa.Column("region", sa.String(6), nullable=False, index=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("scenario", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("data_sources", sa.JSON(), nullable=False),
        sa.Column("grants", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False, index=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("article", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("typical_cases")
