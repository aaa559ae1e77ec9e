"""rectification orders: what a consumer must rectify by when, its answer and the decision

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rectification_orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("grant_id", sa.String(36), nullable=False, index=True),
        sa.Column("issuer", sa.String(64), nullable=False),
        sa.Column("consumer", sa.String(64), nullable=False, index=True),
        sa.Column("provider", sa.String(64), nullable=False, index=True),
        sa.Column("ground", sa.String(64), nullable=False),
        sa.Column("article", sa.String(32), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("terminate_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rectification_orders")
