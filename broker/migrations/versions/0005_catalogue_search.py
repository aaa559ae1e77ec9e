"""catalogue search: normalised text with trigram indexes (pg_trgm / SQLite FTS5 trigram)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_entries") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_catalogue_search_trgm ON catalogue_entries "
            "USING gin (search_text gin_trgm_ops)"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE catalogue_fts USING fts5("
            "code UNINDEXED, search_text, tokenize='trigram')"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalogue_search_trgm")
    elif dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalogue_fts")
    with op.batch_alter_table("catalogue_entries") as batch:
        batch.drop_column("search_text")
