"""catalogue: reviewer, sunset, revocation; searchable view with trigram full-text indexes

SQLite: an FTS5 table with the trigram tokenizer (``catalogue_fts``, rowid = catalogue_search.id).
PostgreSQL: the pg_trgm extension and a GIN trigram index on ``catalogue_search.search_text``.
Both serve ``search_text LIKE '%term%'`` for terms of three or more characters; see
docs/catalogue.md for why the results are the same on both.

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
        batch.add_column(sa.Column("reviewer", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("sunset_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("revocation_reason", sa.Text(), nullable=False, server_default="")
        )
    op.create_table(
        "catalogue_search",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_code", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("share_type", sa.String(16), nullable=False),
        sa.Column("open_type", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sunset_on", sa.Date(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("grades", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_lc", sa.Text(), nullable=False),
        sa.Column("description_lc", sa.Text(), nullable=False),
        sa.Column("items_lc", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["entry_code"], ["catalogue_entries.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_code"),
    )
    for column in ("provider", "region", "share_type", "open_type"):
        op.create_index(f"ix_catalogue_search_{column}", "catalogue_search", [column])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE catalogue_fts USING fts5("
            "search_text, tokenize = 'trigram case_sensitive 1', detail = 'none')"
        )
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        ).scalar_one()
        op.execute(
            "CREATE INDEX ix_catalogue_search_trgm ON catalogue_search "
            f'USING gin (search_text "{schema}".gin_trgm_ops)'
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalogue_fts")
    op.drop_table("catalogue_search")
    with op.batch_alter_table("catalogue_entries") as batch:
        batch.drop_column("revocation_reason")
        batch.drop_column("sunset_on")
        batch.drop_column("reviewer")
