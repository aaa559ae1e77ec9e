"""Full-text search, matching and the open catalogue over the searchable view (CAT-8, OPN-1).

Chinese has no spaces between words, so word tokenisers do not work; the catalogue is indexed by
character trigrams instead: SQLite FTS5 with the ``trigram`` tokenizer, PostgreSQL ``pg_trgm``
(migration 0005). Either index only *proposes* candidates. What an entry matches is defined once,
in SQL both stores evaluate identically: every query term is a substring of the entry's
lower-cased, NFKC-normalised search text (``search_text LIKE '%term%'``). Ranking is an integer
computed from the same ``LIKE`` tests, ties broken by entry code. So both stores return the same
entries in the same order (tests/integration/test_catalogue_search.py runs on both).

Terms shorter than three characters (two-character words such as 婚姻 are common) have no
trigram; they are answered by the same ``LIKE`` test without the index's help — correct, and
fast enough when another term or a filter narrows the candidates (see docs/catalogue.md).

Plain functions over a caller-owned session; no gRPC, no policy.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    case,
    column,
    delete,
    false,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from broker.models import CatalogueEntryVersion, CatalogueSearchRow

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
    name_lc = normalise(content["name"])
    description_lc = normalise(content.get("description", ""))
    items_lc = items_text(content["data_items"])
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
        "name_lc": name_lc,
        "description_lc": description_lc,
        "items_lc": items_lc,
        "search_text": f"{name_lc}\n{description_lc}{items_lc}",
    }


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert_search_row(session: Session, values: dict[str, Any]) -> CatalogueSearchRow:
    """Insert or rewrite an entry's searchable row (and, on SQLite, its FTS5 row)."""
    row = session.execute(
        select(CatalogueSearchRow).where(CatalogueSearchRow.entry_code == values["entry_code"])
    ).scalar_one_or_none()
    if row is None:
        row = CatalogueSearchRow(**values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    if _dialect(session) == "sqlite":
        session.execute(text("DELETE FROM catalogue_fts WHERE rowid = :id"), {"id": row.id})
        session.execute(
            text("INSERT INTO catalogue_fts (rowid, search_text) VALUES (:id, :t)"),
            {"id": row.id, "t": row.search_text},
        )
    return row


def bulk_insert_search_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many new searchable rows at once (bulk import); the entries must be new."""
    if not rows:
        return
    session.execute(CatalogueSearchRow.__table__.insert(), list(rows))
    if _dialect(session) == "sqlite":
        codes = [r["entry_code"] for r in rows]
        copy = text(
            "INSERT INTO catalogue_fts (rowid, search_text) "
            "SELECT id, search_text FROM catalogue_search WHERE entry_code IN :codes"
        ).bindparams(bindparam("codes", expanding=True))
        for start in range(0, len(codes), 500):
            session.execute(copy, {"codes": codes[start : start + 500]})


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


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class SearchFilters:
    """Filters of a search: empty strings mean "any"."""

    provider: str = ""
    region: str = ""  # a region code covers its sub-regions (230000 covers 230102)
    share_type: str = ""
    open_type: str = ""
    tag: str = ""
    grade: str = ""


@dataclass(frozen=True)
class SearchHit:
    """One ranked result."""

    code: str
    version: int
    name: str
    provider: str
    region: str
    share_type: str
    open_type: str
    status: str
    sunset_on: dt.date | None
    tags: tuple[str, ...]
    score: int
    matched_items: tuple[str, ...] = field(default=())


def region_prefix(region: str) -> str:
    """230000 → "23", 230100 → "2301", 230102 → "230102" (a region covers its sub-regions)."""
    prefix = region
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def _grams(term: str) -> list[str]:
    return list(dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2)))


def _fts_quote(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def _fts_all(term: str) -> str:
    return "(" + " AND ".join(_fts_quote(g) for g in _grams(term)) + ")"


def _fts_candidates(expression: str) -> ColumnElement[bool]:
    sub = (
        text("SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH :fts")
        .bindparams(fts=expression)
        .columns(column("rowid", Integer))
    )
    return CatalogueSearchRow.id.in_(sub)


def _current(today: dt.date) -> ColumnElement[bool]:
    return or_(CatalogueSearchRow.sunset_on.is_(None), CatalogueSearchRow.sunset_on >= today)


def _filtered(filters: SearchFilters) -> list[ColumnElement[bool]]:
    c = CatalogueSearchRow
    where: list[ColumnElement[bool]] = []
    if filters.provider:
        where.append(c.provider == filters.provider)
    if filters.region:
        prefix = region_prefix(filters.region)
        where.append(c.region == prefix if len(prefix) == 6 else c.region.like(prefix + "%"))
    if filters.share_type:
        where.append(c.share_type == filters.share_type)
    if filters.open_type:
        where.append(c.open_type == filters.open_type)
    if filters.tag:
        where.append(_contains(c.tags, f"|{filters.tag}|"))
    if filters.grade:
        where.append(_contains(c.grades, f"|{filters.grade}|"))
    return where


def _score_terms(terms: Sequence[str], weights: tuple[int, int, int]) -> Any:
    c = CatalogueSearchRow
    parts: list[Any] = []
    for term in terms:
        for col, weight in zip((c.name_lc, c.items_lc, c.description_lc), weights, strict=True):
            parts.append(case((_contains(col, term), weight), else_=0))
    return sum(parts[1:], parts[0]) if parts else None


def _hit(row: CatalogueSearchRow, score: int, matched: tuple[str, ...] = ()) -> SearchHit:
    return SearchHit(
        code=row.entry_code,
        version=row.version,
        name=row.name,
        provider=row.provider,
        region=row.region,
        share_type=row.share_type,
        open_type=row.open_type,
        status=row.status,
        sunset_on=row.sunset_on,
        tags=tuple(t for t in row.tags.split("|") if t),
        score=int(score or 0),
        matched_items=matched,
    )


def search(
    session: Session,
    query: str,
    filters: SearchFilters,
    *,
    today: dt.date,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[SearchHit], bool]:
    """Ranked full-text search of the entries in force (CAT-8).

    Args:
        session: a session on the broker's store.
        query: whitespace-separated terms, all of which must occur (in the name, description,
            or a data item's name or description); empty: browse by the filters, by code.
        filters: provider, region (covering sub-regions), share type, open type, tag, grade.
        today: withdrawn entries (sunset date passed) are not found.
        limit: page size (1–200).
        offset: entries to skip.

    Returns:
        (hits, whether more hits follow).
    """
    c = CatalogueSearchRow
    terms = query_terms(query)
    where = [_current(today), *_filtered(filters)]
    where += [_contains(c.search_text, t) for t in terms]
    long_terms = [t for t in terms if len(t) >= 3]
    if long_terms and _dialect(session) == "sqlite":
        where.append(_fts_candidates(" AND ".join(_fts_all(t) for t in long_terms)))
    if terms:
        full = normalise(query).strip()
        score = _score_terms(terms, (W_NAME, W_ITEMS, W_DESCRIPTION)) + case(
            (c.name_lc == full, W_EXACT_NAME), else_=0
        )
        stmt = select(c, score.label("score")).where(*where).order_by(score.desc(), c.entry_code)
    else:
        stmt = select(c, false().label("score")).where(*where).order_by(c.entry_code)
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.execute(stmt.limit(limit + 1).offset(max(0, offset))).all()
    hits = [_hit(row, score) for row, score in rows[:limit]]
    return hits, len(rows) > limit


def need_terms(need: str) -> list[str]:
    """Terms of a free-text need: its segments, long segments cut into character trigrams.

    "核查申请人婚姻状况" has no word boundaries, so it is matched by its overlapping trigrams
    (核查申, 查申请, …, 姻状况); segments of up to three characters are kept whole.
    """
    out: list[str] = []
    for segment in re.split(r"[\W_]+", normalise(need)):
        pieces = [segment] if len(segment) <= 3 else _grams(segment)
        for piece in pieces:
            if piece and piece not in out:
                out.append(piece)
    return out[:MAX_NEED_GRAMS]


def _matched_items(items_lc: str, wanted: Sequence[str]) -> tuple[str, ...]:
    return tuple(w for w in wanted if w in items_lc)


def match(
    session: Session,
    need: str,
    items: Sequence[str],
    filters: SearchFilters,
    *,
    today: dt.date,
    limit: int = 10,
) -> list[SearchHit]:
    """The entries that best answer a need: free text plus the data items wanted (CAT-8).

    An entry is a candidate when it contains any need term or any wanted item; it scores
    ``6`` per wanted item found among its data items, plus 3 / 2 / 1 per need term found in its
    name / data items / description. Highest score first, then entry code.

    Args:
        session: a session on the broker's store.
        need: what the consumer needs, in its own words (e.g. "核查低保申请人婚姻状况").
        items: data items wanted, by description or field name (e.g. "婚姻状况").
        filters: as for :func:`search`.
        today: withdrawn entries are not proposed.
        limit: at most this many (1–200).

    Returns:
        Ranked hits; ``matched_items`` names the wanted items each entry provides.
    """
    c = CatalogueSearchRow
    terms = need_terms(need)
    wanted = [w for w in dict.fromkeys(normalise(i).strip() for i in items) if w][: MAX_TERMS * 4]
    if not terms and not wanted:
        return []
    alternatives = terms + wanted
    where = [_current(today), *_filtered(filters)]
    where.append(or_(*[_contains(c.search_text, t) for t in alternatives]))
    if _dialect(session) == "sqlite" and all(len(t) >= 3 for t in alternatives):
        where.append(_fts_candidates(" OR ".join(_fts_all(t) for t in alternatives)))
    parts: list[Any] = []
    if terms:
        parts.append(_score_terms(terms, (3, 2, 1)))
    for w in wanted:
        parts.append(case((_contains(c.items_lc, w), W_MATCH_ITEM), else_=0))
    score = sum(parts[1:], parts[0])
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = (
        select(c, score.label("score"))
        .where(*where)
        .order_by(score.desc(), c.entry_code)
        .limit(limit)
    )
    return [
        _hit(row, s, _matched_items(row.items_lc, wanted))
        for row, s in session.execute(stmt).all()
        if s
    ]


@dataclass(frozen=True)
class SharingHint:
    """Art.17: an entry of another department that already provides some of a draft's items."""

    entry_code: str
    provider: str
    name: str
    items: tuple[str, ...]


def already_provided(
    session: Session,
    provider: str,
    items: Sequence[dict[str, Any]],
    key_field: str,
    *,
    today: dt.date,
    limit: int = 10,
) -> list[SharingHint]:
    """Entries of other departments that already provide a draft's data items (Art.17).

    A data item is "already provided" when an entry in force of another department has a data
    item with the same description (after normalisation). The key field (the identifier records
    are looked up by, e.g. 公民身份号码) is not data collected and is left out.

    Returns:
        The entries providing the most of the draft's items first (at most ``limit``).
    """
    c = CatalogueSearchRow
    wanted = [
        d
        for d in dict.fromkeys(
            normalise(i.get("description", "")).strip() for i in items if i["name"] != key_field
        )
        if d
    ]
    if not wanted:
        return []
    where = [_current(today), c.provider != provider]
    where.append(or_(*[_contains(c.search_text, w) for w in wanted]))
    if _dialect(session) == "sqlite" and all(len(w) >= 3 for w in wanted):
        where.append(_fts_candidates(" OR ".join(_fts_all(w) for w in wanted)))
    parts = [case((_contains(c.items_lc, f"\t{w}\n"), 1), else_=0) for w in wanted]
    score = sum(parts[1:], parts[0])
    stmt = (
        select(c, score.label("score"))
        .where(*where)
        .order_by(score.desc(), c.entry_code)
        .limit(limit)
    )
    return [
        SharingHint(
            row.entry_code,
            row.provider,
            row.name,
            tuple(w for w in wanted if f"\t{w}\n" in row.items_lc),
        )
        for row, s in session.execute(stmt).all()
        if s
    ]


def open_catalogue(
    session: Session, *, today: dt.date, provider: str = "", limit: int = 100, offset: int = 0
) -> tuple[list[tuple[CatalogueSearchRow, dict[str, Any]]], bool]:
    """The public open catalogue (OPN-1): entries in force whose open type is not not-open.

    Derived from the searchable view at every call, so it is always current: a new version,
    a change of open type, a revocation or a withdrawal shows at once.

    Returns:
        ((row, published content) pairs by entry code, whether more follow).
    """
    c = CatalogueSearchRow
    v = CatalogueEntryVersion
    stmt = (
        select(c, v.content)
        .join(v, (v.entry_code == c.entry_code) & (v.version == c.version))
        .where(_current(today), c.open_type != "not_open")
        .order_by(c.entry_code)
    )
    if provider:
        stmt = stmt.where(c.provider == provider)
    limit = max(1, min(limit, MAX_LIMIT * 5))
    rows = session.execute(stmt.limit(limit + 1).offset(max(0, offset))).all()
    return [(row, content) for row, content in rows[:limit]], len(rows) > limit
