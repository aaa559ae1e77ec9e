"""misuse findings: the detail's message template and fields, shown in each reader's language

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("misuse_findings") as batch:
        batch.add_column(sa.Column("detail_template", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("misuse_findings") as batch:
        batch.drop_column("detail_template")
