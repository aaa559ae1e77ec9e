"""open data withdrawals: approved by the same-level authority, filed with the provincial
authority and announced (Art.35)

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_data_withdrawals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("entry_code", sa.String(128), nullable=False),
        sa.Column("entry_name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("filed_with", sa.String(64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column("article", sa.String(32), nullable=False),
    )
    op.create_index("ix_open_data_withdrawals_entry", "open_data_withdrawals", ["entry_code"])


def downgrade() -> None:
    op.drop_index("ix_open_data_withdrawals_entry", table_name="open_data_withdrawals")
    op.drop_table("open_data_withdrawals")
