"""regional: a provider's regional split of an entry with delegated decisions (Art.23) and
return-flow arrangements by territory (Art.26); share requests and grants name the delegate

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        batch.add_column(sa.Column("delegate", sa.String(64), nullable=True))
        batch.create_index("ix_share_requests_delegate", ["delegate"])
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("delegate", sa.String(64), nullable=True))
        batch.add_column(sa.Column("return_flow_id", sa.String(36), nullable=True))
        batch.create_index("ix_grants_return_flow_id", ["return_flow_id"])
    op.create_table(
        "regional_splits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "entry_code",
            sa.String(128),
            sa.ForeignKey("catalogue_entries.code"),
            nullable=False,
            index=True,
        ),
        sa.Column("provider", sa.String(64), nullable=False, index=True),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reviewer", sa.String(64), nullable=False, index=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "return_flows",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "entry_code",
            sa.String(128),
            sa.ForeignKey("catalogue_entries.code"),
            nullable=False,
            index=True,
        ),
        sa.Column("provider", sa.String(64), nullable=False, index=True),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("grant_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("return_flows")
    op.drop_table("regional_splits")
    with op.batch_alter_table("grants") as batch:
        batch.drop_index("ix_grants_return_flow_id")
        batch.drop_column("return_flow_id")
        batch.drop_column("delegate")
    with op.batch_alter_table("share_requests") as batch:
        batch.drop_index("ix_share_requests_delegate")
        batch.drop_column("delegate")
