"""Writing the catalogue's search index: the searchable view and its trigram index (SQLite FTS5
or a PostgreSQL tsvector), kept in step with publication and revocation. See
:mod:`tongdao.broker.catalogue.search` for how the index is read."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    cast,
    column,
    delete,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.models import CatalogueSearchRow

TAGS = ("population", "legal_entity", "natural_resources_geography", "e_certificates", "thematic")


AGGREGATION_MODES = ("logical", "physical")


MAX_TERMS = 8


MAX_TERM_CHARS = 64


MAX_NEED_GRAMS = 32


MAX_LIMIT = 200


ESCAPE = "\\"


# Weights of where a term is found (name > data items > description).
W_NAME, W_ITEMS, W_DESCRIPTION, W_EXACT_NAME = 10, 4, 2, 20


W_MATCH_ITEM = 6


SEARCH_WEIGHTS = (("name", W_NAME), ("items", W_ITEMS), ("description", W_DESCRIPTION))


MATCH_WEIGHTS = (("name", 3), ("items", 2), ("description", 1))


# Two newlines after each indexed text: every character of the text then begins a trigram, so a
# 1- or 2-character term is found as a prefix (terms never contain whitespace).
PAD = "\n\n"


INDEX_COLUMNS = {"name": "n", "description": "d", "items": "i"}  # PostgreSQL lexeme prefixes


# Candidates checked per round trip at least (a page is 20; a few false candidates are cheap).
MIN_BATCH = 32


@lru_cache(maxsize=131_072)  # data item names and descriptions repeat across thousands of entries
def normalise(value: str) -> str:
    """Fold full-width forms and case (NFKC, lower): the same on index and query side."""
    return unicodedata.normalize("NFKC", value).lower()


def query_terms(query: str) -> list[str]:
    """Split a query on whitespace into distinct normalised terms (at most 8, 64 chars each)."""
    out: list[str] = []
    for term in normalise(query).split():
        term = term[:MAX_TERM_CHARS]
        if term not in out:
            out.append(term)
    return out[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def _contains(col: Any, term: str) -> ColumnElement[bool]:
    return col.like(_like(term), escape=ESCAPE)  # type: ignore[no-any-return]


def items_text(items: Iterable[dict[str, Any]]) -> str:
    """``\\nname\\tdescription\\n`` per data item, normalised (exact item tests use the tabs)."""
    return "\n" + "".join(
        f"{normalise(i['name'])}\t{normalise(i.get('description', ''))}\n" for i in items
    )


def search_row_values(
    content: dict[str, Any],
    *,
    version: int,
    region: str,
    status: str = "in_force",
    sunset_on: dt.date | None = None,
) -> dict[str, Any]:
    """The searchable view's column values for one published version's content."""
    grades = sorted({i["sensitivity"] for i in content["data_items"]})
    return {
        "entry_code": content["code"],
        "version": version,
        "provider": content["provider"],
        "region": region,
        "share_type": content.get("effective_share_type") or content["share_type"],
        "open_type": content["open_type"],
        "status": status,
        "sunset_on": sunset_on,
        "tags": "|" + "|".join(content.get("tags", [])) + "|",
        "grades": "|" + "|".join(grades) + "|",
        "name": content["name"],
        "name_lc": normalise(content["name"]),
        "description_lc": normalise(content.get("description", "")),
    }


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@lru_cache(maxsize=65_536)
def _lexemes(value: str, letter: str) -> str:
    """A text's padded trigrams as tsvector input, prefixed by its column's letter (cached:
    data item names and descriptions repeat across thousands of entries)."""
    padded = value + PAD
    grams = {padded[i : i + 3] for i in range(len(value))}
    return " ".join(_quote_lexeme(letter + g) for g in grams)


def _quote_lexeme(lexeme: str) -> str:
    """A lexeme quoted for tsvector / tsquery input (taken as is: no parsing, no folding)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsvector_input(content: dict[str, Any]) -> str:
    """The PostgreSQL gram set of an entry (duplicates are merged by ``tsvector`` input)."""
    parts = [
        _lexemes(normalise(content["name"]), "n"),
        _lexemes(normalise(content.get("description", "")), "d"),
    ]
    for item in content["data_items"]:
        parts.append(_lexemes(normalise(item["name"]), "i"))
        parts.append(_lexemes(normalise(item.get("description", "")), "i"))
    return " ".join(p for p in parts if p)


def _fts_values(row_id: int, content: dict[str, Any]) -> dict[str, Any]:
    """The SQLite FTS5 row of an entry (each column padded, see ``PAD``)."""
    return {
        "id": row_id,
        "n": normalise(content["name"]) + PAD,
        "d": normalise(content.get("description", "")) + PAD,
        "i": items_text(content["data_items"]) + PAD,
    }


_FTS_INSERT = text(
    "INSERT INTO catalogue_fts (rowid, name, description, items) VALUES (:id, :n, :d, :i)"
)


_PG_GRAMS = text(
    "UPDATE catalogue_search SET catalogue_fts_grams = CAST(:g AS tsvector) WHERE id = :id"
)


def _write_index(session: Session, row_id: int, content: dict[str, Any], *, replace: bool) -> None:
    if _dialect(session) == "sqlite":
        if replace:
            session.execute(text("DELETE FROM catalogue_fts WHERE rowid = :id"), {"id": row_id})
        session.execute(_FTS_INSERT, _fts_values(row_id, content))
    else:
        session.execute(_PG_GRAMS, {"id": row_id, "g": _tsvector_input(content)})


def upsert_search_row(
    session: Session, content: dict[str, Any], *, version: int, region: str
) -> CatalogueSearchRow:
    """Insert or rewrite an entry's searchable row and its gram index (a new published version).

    Args:
        session: caller-owned.
        content: the published version's content.
        version: its version number.
        region: the provider's region.

    Returns:
        The searchable row (status in force, no sunset date).
    """
    values = search_row_values(content, version=version, region=region)
    row = session.execute(
        select(CatalogueSearchRow).where(CatalogueSearchRow.entry_code == values["entry_code"])
    ).scalar_one_or_none()
    existed = row is not None
    if row is None:
        row = CatalogueSearchRow(**values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    _write_index(session, row.id, content, replace=existed)
    return row


def bulk_insert_search_rows(
    session: Session, entries: Sequence[tuple[dict[str, Any], str]], *, version: int = 1
) -> None:
    """Insert the searchable rows and gram index of many new entries at once (bulk import).

    Args:
        session: caller-owned.
        entries: (published content, provider's region) of entries not yet searchable.
        version: their version number.
    """
    if not entries:
        return
    rows = [search_row_values(c, version=version, region=r) for c, r in entries]
    if _dialect(session) == "sqlite":
        ids = session.execute(
            insert(CatalogueSearchRow).returning(
                CatalogueSearchRow.id, sort_by_parameter_order=True
            ),
            rows,
        ).scalars()
        session.execute(
            _FTS_INSERT, [_fts_values(i, c) for i, (c, _r) in zip(ids, entries, strict=True)]
        )
        return
    # PostgreSQL: the gram column is not part of the model (it exists only there), so the rows
    # are written through a plain table clause that names it.
    columns = [*rows[0], "catalogue_fts_grams"]
    target = table("catalogue_search", *(column(n) for n in columns))
    stmt = insert(target).values(catalogue_fts_grams=cast(bindparam("g"), TSVECTOR))
    for row, (content, _region) in zip(rows, entries, strict=True):
        row["g"] = _tsvector_input(content)
    session.execute(stmt, rows)


def set_search_status(
    session: Session, code: str, status: str, sunset_on: dt.date | None = None
) -> None:
    """Change the lifecycle status shown in search results (revoking, sunset, in_force)."""
    row = session.execute(
        select(CatalogueSearchRow).where(CatalogueSearchRow.entry_code == code)
    ).scalar_one_or_none()
    if row is not None:
        row.status = status
        row.sunset_on = sunset_on


def remove_search_row(session: Session, code: str) -> None:
    """Take a withdrawn entry out of search and the open catalogue."""
    row = session.execute(
        select(CatalogueSearchRow).where(CatalogueSearchRow.entry_code == code)
    ).scalar_one_or_none()
    if row is None:
        return
    if _dialect(session) == "sqlite":
        session.execute(text("DELETE FROM catalogue_fts WHERE rowid = :id"), {"id": row.id})
    session.execute(delete(CatalogueSearchRow).where(CatalogueSearchRow.id == row.id))
