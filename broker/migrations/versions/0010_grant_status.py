"""grant status: why and by whom a grant was suspended or terminated

``grants.status`` (active / suspended / terminated) is changed only by the sharing context's
status calls; these columns keep the latest change's ground, article, reason, actor and time
(every change is also a ledger entry). Existing grants are active with no change recorded.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("status_ground", sa.String(64), nullable=True))
        batch.add_column(sa.Column("status_article", sa.String(32), nullable=True))
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_changed_by", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        for name in (
            "status_changed_at",
            "status_changed_by",
            "status_reason",
            "status_article",
            "status_ground",
        ):
            batch.drop_column(name)
