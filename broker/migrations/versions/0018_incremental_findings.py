"""incremental misuse detection: the ledger cursor, per-grant hourly call tallies and the filter
shapes of answered aggregates (differencing)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "misuse_scan_cursors",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
    )
    op.create_table(
        "grant_call_hours",
        sa.Column("grant_id", sa.String(36), primary_key=True),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
    )
    op.create_table(
        "aggregate_filter_shapes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.String(36), nullable=False),
        sa.Column("pair", sa.String(130), nullable=False, index=True),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("aggregate_filter_shapes")
    op.drop_table("grant_call_hours")
    op.drop_table("misuse_scan_cursors")
