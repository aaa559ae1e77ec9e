"""official holiday schedules loaded at the broker; extension days granted per deadline

``holiday_schedules`` keeps each year's official schedule (the State Council's notice as loaded
with ``tongdao calendar load --to-broker``, validated, in the TOML form of docs/policies.md), so
a restarted broker counts on it. ``deadlines.extended_working_days`` is the sum of the working
days of the extensions granted, so a clock can be recounted from its start when an official year
is loaded (clocks started before this revision were never provisional, so 0 is safe for them).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_schedules",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("loaded_on", sa.Date(), nullable=False),
        sa.Column("loaded_by", sa.String(64), nullable=False),
    )
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(
            sa.Column("extended_working_days", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("extended_working_days")
    op.drop_table("holiday_schedules")
