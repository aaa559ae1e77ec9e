"""catalogue search: per-column gram indexes that rank without reading entry text

Migration 0005 indexed one concatenated ``search_text`` per entry, so a query could find
candidates but had to read every candidate's text to rank it (and 2-character terms, which have
no trigram, read the whole table). At 100,000 entries that is hundreds of milliseconds.

This index keeps, per entry and per column (name, description, data items), the set of character
trigrams of the text padded with two newlines, so any 1- or 2-character string that occurs is
the prefix of an indexed trigram:

* SQLite: ``catalogue_fts``, an FTS5 table (trigram tokenizer, ``detail=column`` so a query can
  name the column) and ``catalogue_fts_terms``, its vocabulary, to expand 1–2-character terms
  into the trigrams they begin.
* PostgreSQL: ``catalogue_search.catalogue_fts_grams``, a ``tsvector`` whose lexemes are the
  trigrams prefixed by the column's letter (``n``/``d``/``i``), with a GIN index; 1–2-character
  terms are tsquery prefix matches. pg_trgm is no longer used.

``catalogue_search`` loses ``items_lc`` and ``search_text`` (the text is read from the published
version when a result is checked), so its rows are narrow and fast to rank.

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PAD = "\n\n"


def _grams(value: str) -> set[str]:
    value += PAD
    return {value[i : i + 3] for i in range(len(value) - 2)}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalogue_fts")
        op.execute(
            "CREATE VIRTUAL TABLE catalogue_fts USING fts5(name, description, items, "
            "tokenize = 'trigram case_sensitive 1', detail = 'column')"
        )
        op.execute("CREATE VIRTUAL TABLE catalogue_fts_terms USING fts5vocab(catalogue_fts, 'row')")
        op.execute(
            "INSERT INTO catalogue_fts (rowid, name, description, items) "
            "SELECT id, name_lc || char(10, 10), description_lc || char(10, 10), "
            "items_lc || char(10, 10) FROM catalogue_search"
        )
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalogue_search_trgm")
        op.execute(
            "ALTER TABLE catalogue_search ADD COLUMN catalogue_fts_grams tsvector "
            "NOT NULL DEFAULT ''::tsvector"
        )
        # Out of line and uncompressed: the heap rows stay narrow, so fetching the ids of
        # 30,000 candidates reads a few hundred pages, not every entry's gram set.
        op.execute("ALTER TABLE catalogue_search ALTER COLUMN catalogue_fts_grams SET STORAGE EXTERNAL")
        rows = bind.exec_driver_sql(
            "SELECT id, name_lc, description_lc, items_lc FROM catalogue_search"
        ).all()
        for row_id, name_lc, description_lc, items_lc in rows:
            lexemes = ["n" + g for g in _grams(name_lc)] + ["d" + g for g in _grams(description_lc)]
            items: set[str] = set()
            for line in items_lc.split("\n"):
                for part in line.split("\t"):
                    if part:
                        items |= _grams(part)
            lexemes += ["i" + g for g in items]
            bind.exec_driver_sql(
                "UPDATE catalogue_search SET catalogue_fts_grams = "
                "array_to_tsvector(%(g)s::text[]) WHERE id = %(id)s",
                {"g": sorted(lexemes), "id": row_id},
            )
        op.execute(
            "CREATE INDEX catalogue_fts_grams_idx ON catalogue_search USING gin (catalogue_fts_grams)"
        )
    with op.batch_alter_table("catalogue_search") as batch:
        batch.drop_column("search_text")
        batch.drop_column("items_lc")


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("catalogue_search") as batch:
        batch.add_column(sa.Column("items_lc", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    # The texts are rebuilt from the published versions (the index is derived data).
    rows = bind.execute(
        sa.text(
            "SELECT s.id, s.name_lc, s.description_lc, v.content FROM catalogue_search s "
            "JOIN catalogue_entry_versions v ON v.entry_code = s.entry_code "
            "AND v.version = s.version"
        )
    ).all()
    import unicodedata

    def norm(value: str) -> str:
        return unicodedata.normalize("NFKC", value).lower()

    for row_id, name_lc, description_lc, content in rows:
        if isinstance(content, str):
            content = json.loads(content)
        items_lc = "\n" + "".join(
            f"{norm(i['name'])}\t{norm(i.get('description', ''))}\n" for i in content["data_items"]
        )
        bind.execute(
            sa.text("UPDATE catalogue_search SET items_lc = :i, search_text = :t WHERE id = :id"),
            {"i": items_lc, "t": f"{name_lc}\n{description_lc}{items_lc}", "id": row_id},
        )
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalogue_fts_terms")
        op.execute("DROP TABLE IF EXISTS catalogue_fts")
        op.execute(
            "CREATE VIRTUAL TABLE catalogue_fts USING fts5("
            "search_text, tokenize = 'trigram case_sensitive 1', detail = 'none')"
        )
        op.execute(
            "INSERT INTO catalogue_fts (rowid, search_text) SELECT id, search_text "
            "FROM catalogue_search"
        )
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS catalogue_fts_grams_idx")
        op.execute("ALTER TABLE catalogue_search DROP COLUMN catalogue_fts_grams")
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        ).scalar_one()
        op.execute(
            "CREATE INDEX ix_catalogue_search_trgm ON catalogue_search "
            f'USING gin (search_text "{schema}".gin_trgm_ops)'
        )
