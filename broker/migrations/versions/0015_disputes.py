"""disputes between a data user and a data provider (Art.25)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False, index=True),
        sa.Column("opened_by", sa.String(64), nullable=False, index=True),
        sa.Column("respondent", sa.String(64), nullable=False, index=True),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("negotiation", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("handler", sa.String(64), nullable=False, index=True),
        sa.Column("routing", sa.Text(), nullable=False),
        sa.Column("article", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("disputes")
