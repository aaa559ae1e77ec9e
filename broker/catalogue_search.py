"""Full-text search, matching and the open catalogue over the searchable view (CAT-8, OPN-1).

Chinese has no spaces between words, so word tokenisers do not work; the catalogue is indexed by
character trigrams, per column (name, description, data items), of the lower-cased,
NFKC-normalised text padded with two newlines (migration 0006):

* SQLite: an FTS5 table with the ``trigram`` tokenizer and ``detail=column`` (a query names the
  column), plus its vocabulary table.
* PostgreSQL: a ``tsvector`` of the trigrams, each prefixed with its column's letter
  (``n``/``d``/``i``), with a GIN index.

A term of three or more characters is indexed when all its trigrams are (exact for three
characters, a superset for more). Thanks to the padding, every occurrence of a 1- or 2-character
term begins some indexed trigram, so such a term is a *prefix* lookup: the vocabulary's trigrams
in that range (SQLite) or a ``'…':*`` tsquery (PostgreSQL) — exact, and no table scan.

The index only proposes candidates, each with an upper bound of its score, which it computes
from the (term, column) hits alone — no entry text is read to rank. What an entry matches and
how it scores is defined once, in Python (the ``_*_score`` functions below), over the entry's
text; candidates are checked best bound first, and checking stops as soon as no unchecked
candidate can still reach the page. Both stores therefore return the same entries in the same
order (tests/integration/test_catalogue.py runs on both), and a page costs a few dozen checks.

Plain functions over a caller-owned session; no gRPC, no policy.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from tongdao.broker.models import CatalogueEntryVersion, CatalogueSearchRow

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


# ---------------------------------------------------------------------------- the gram index


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


# --- candidates from the index


@dataclass(frozen=True)
class _Part:
    """A term to look up and what it is worth in each column it occurs in."""

    term: str
    weights: tuple[tuple[str, int], ...]


def _fts_quote(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def _next_char(char: str) -> str | None:
    code = ord(char) + 1
    if 0xD800 <= code <= 0xDFFF:  # surrogates never occur in stored text
        code = 0xE000
    return chr(code) if code <= 0x10FFFF else None


def _fts_expression(session: Session, term: str) -> str | None:
    """An FTS5 expression that holds wherever ``term`` occurs (None: it occurs nowhere).

    Each whitespace-free piece of the term must occur: 3+ characters as all its trigrams, 1–2
    characters as any indexed trigram it begins (read from the vocabulary, by range).
    """
    pieces = []
    for piece in term.split():
        if len(piece) >= 3:
            pieces.append("(" + " AND ".join(_fts_quote(g) for g in _grams(piece)) + ")")
            continue
        stmt = "SELECT term FROM catalogue_fts_terms WHERE term >= :lo"
        params = {"lo": piece}
        upper = _next_char(piece[-1])
        if upper is not None:
            stmt += " AND term < :hi"
            params["hi"] = piece[:-1] + upper
        grams = [g for g in session.execute(text(stmt), params).scalars() if g.startswith(piece)]
        if not grams:
            return None
        pieces.append("(" + " OR ".join(_fts_quote(g) for g in grams) + ")")
    return " AND ".join(pieces) if pieces else None


def _tsquery(term: str, letter: str) -> str | None:
    """The tsquery that holds wherever ``term`` occurs in the column with this letter."""

    pieces = []
    for piece in term.split():
        if len(piece) >= 3:
            pieces.extend(_quote_lexeme(letter + g) for g in _grams(piece))
        else:
            pieces.append(_quote_lexeme(letter + piece) + ":*")
    return " & ".join(pieces) if pieces else None


@contextmanager
def _index_scans(session: Session) -> Iterator[None]:
    """On PostgreSQL, make the planner use the GIN index for the next statement, without JIT.

    The planner does not price reading each row's out-of-line gram set, so for a common prefix
    it prefers a sequential scan that detoasts 100,000 tsvectors (seconds) over the bitmap
    index scan (milliseconds); and the many-branch plan's cost estimate crosses the JIT
    threshold, whose compilation (~150 ms) costs more than the query. The settings are
    restored afterwards (and are transaction-local anyway).
    """
    if _dialect(session) != "postgresql":
        yield
        return
    names = ("enable_seqscan", "jit")
    previous = session.execute(
        text("SELECT current_setting('enable_seqscan'), current_setting('jit')")
    ).one()
    session.execute(
        text("SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)")
    )
    try:
        yield
    finally:
        for name, value in zip(names, previous, strict=True):
            session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})


def _every_term(term_column: Any, terms: int) -> ColumnElement[bool]:
    """Every term 0…n-1 has a hit in the group. Not ``count(DISTINCT t) = n``: a distinct
    aggregate makes PostgreSQL sort all hits instead of hashing them (3× slower at 50,000)."""
    return and_(*(func.max(case((term_column == k, 1), else_=0)) == 1 for k in range(terms)))


# What a PostgreSQL index scan returns: the key, the tie-break and every filter's column.
_PG_COLUMNS = "id, entry_code, provider, region, share_type, open_type, tags, grades, sunset_on"


def _candidates(
    session: Session,
    parts: Sequence[_Part],
    where: Sequence[ColumnElement[bool]],
    *,
    require_all: bool,
    exact_name: str,
    named_only: bool = False,
) -> Select[Any] | None:
    """(id, entry_code, upper bound of the score) of the entries the index proposes, best first.

    The bound is the sum of the weights of the (part, column) pairs the index finds, plus
    ``W_EXACT_NAME`` when the name equals ``exact_name``; it is exact for terms of up to three
    characters and never below the true score. ``require_all``: every part must be found.
    ``named_only``: only entries with some part in their name (the index intersects, so the
    rest are never read). None when nothing can match.
    """
    c = CatalogueSearchRow
    selects: list[Any] = []
    n = 0
    sqlite = _dialect(session) == "sqlite"
    expressions = [_fts_expression(session, p.term) if sqlite else p.term for p in parts]
    if require_all and None in expressions:
        return None
    # Conditions the index intersects with each branch before any row is read: with several
    # required terms, an entry must contain each of them somewhere; in the name tier (see
    # _unnamed_bound), the term must be in the name.
    every = named = ""
    if require_all and len(parts) > 1:
        if sqlite:
            every = " AND ".join(f"({e})" for e in expressions)
        else:
            every = " & ".join(
                "(" + " | ".join(f"({_tsquery(p.term, letter)})" for letter in "nid") + ")"
                for p in parts
            )
    if named_only:
        if sqlite:
            named = " OR ".join(f"{{name}} : ({e})" for e in expressions if e is not None)
        else:
            named = " | ".join(f"({_tsquery(p.term, 'n')})" for p in parts)
    for k, part in enumerate(parts):
        expression = expressions[k]
        if expression is None:
            continue
        for col, weight in part.weights:
            n += 1
            if sqlite:
                # k and weight are our ints; the user's text is in the bound MATCH string.
                sql = f"SELECT rowid AS id, {k} AS t, {weight} AS w FROM catalogue_fts "  # noqa: S608
                selects.append(
                    text(sql + f"WHERE catalogue_fts MATCH :q{n}")
                    .bindparams(
                        **{
                            f"q{n}": " AND ".join(
                                f"({r})" for r in (named, every, f"{{{col}}} : ({expression})") if r
                            )
                        }
                    )
                    .columns(id=Integer, t=Integer, w=Integer)
                )
            else:
                bonus = ""
                if exact_name and k == 0 and col == "name":
                    # a name equal to the query contains every term: its bonus rides on the
                    # first term's name hit, so the grouping below carries no name text
                    bonus = f" + CASE WHEN name_lc = :x{n} THEN {W_EXACT_NAME} ELSE 0 END"
                # OFFSET 0 fences the index scan from the filters: pushed in, the planner may
                # scan a filter's b-tree index and test each row's gram set instead (detoasting
                # tens of thousands of them) rather than use the GIN index.
                sql = (
                    f"(SELECT {_PG_COLUMNS}, {k} AS t, {weight}{bonus} AS w "  # noqa: S608
                    f"FROM catalogue_search WHERE catalogue_fts_grams @@ CAST(:q{n} AS tsquery) "
                    "OFFSET 0)"
                )
                query = _tsquery(part.term, INDEX_COLUMNS[col])
                restrict = (named, every, query)
                params = {f"q{n}": " & ".join(f"({r})" for r in restrict if r)}
                if bonus:
                    params[f"x{n}"] = exact_name
                selects.append(
                    text(sql)
                    .bindparams(**params)
                    .columns(
                        *(c.__table__.c[name] for name in _PG_COLUMNS.split(", ")),
                        column("t", Integer),
                        column("w", Integer),
                    )
                )
    if not selects:
        return None
    hits = union_all(*selects).subquery("hits")
    if sqlite:
        # Grouping the index hits first joins each candidate to its (narrow) row once.
        agg = select(hits.c.id, func.sum(hits.c.w).label("ub")).group_by(hits.c.id)
        if require_all and len(parts) > 1:
            agg = agg.having(_every_term(hits.c.t, len(parts)))
        found = agg.subquery("found")
        bound: Any = found.c.ub
        if exact_name:
            bound = bound + case((c.name_lc == exact_name, W_EXACT_NAME), else_=0)
        return (
            select(c.id, c.entry_code, bound.label("ub"))
            .join_from(found, c, c.id == found.c.id)
            .where(*where)
            .order_by(bound.desc(), c.entry_code)
        )
    # PostgreSQL: each index scan reads the rows, so the filters apply to its output.
    adapter = ClauseAdapter(hits)
    bound = func.sum(hits.c.w)
    stmt = (
        select(hits.c.id, hits.c.entry_code, bound.label("ub"))
        .where(*(adapter.traverse(cond) for cond in where))
        .group_by(hits.c.id, hits.c.entry_code)
    )
    if require_all and len(parts) > 1:
        stmt = stmt.having(_every_term(hits.c.t, len(parts)))
    return stmt.order_by(bound.desc(), hits.c.entry_code)


# --- checking candidates


@dataclass(frozen=True)
class _Text:
    """An entry's normalised text, as the score functions see it."""

    name: str
    description: str
    items: str  # items_text(): "\nname\tdescription\n" per data item


Scorer = Callable[[_Text], int]


def _ranked(
    session: Session,
    parts: Sequence[_Part],
    where: Sequence[ColumnElement[bool]],
    scorer: Scorer,
    *,
    need: int,
    require_all: bool,
    exact_name: str = "",
    named_only: bool = False,
) -> list[tuple[CatalogueSearchRow, _Text, int]]:
    """The ``need`` best entries by (score descending, code), checked in the index's order.

    Candidates come best bound first; each is scored on its real text (0: not a match). Once
    ``need`` entries are in hand and the next candidate's bound cannot beat the last of them,
    no unchecked candidate can: the result is the same as scoring every entry (of those with
    a part in their name, if ``named_only``).
    """
    stmt = _candidates(
        session,
        parts,
        where,
        require_all=require_all,
        exact_name=exact_name,
        named_only=named_only,
    )
    if stmt is None:
        return []
    best: list[tuple[int, str, CatalogueSearchRow, _Text]] = []  # sorted by (-score, code)
    offset, batch = 0, max(need, MIN_BATCH)
    while True:
        with _index_scans(session):
            candidates = session.execute(stmt.limit(batch).offset(offset)).all()
        rows = _rows_with_text(session, [cid for cid, _code, _ub in candidates])
        for cid, code, ub in candidates:
            if len(best) >= need:
                last_score, last_code = -best[need - 1][0], best[need - 1][1]
                if ub < last_score or (ub == last_score and code > last_code):
                    return [(row, t, -s) for s, _c, row, t in best[:need]]
            row, entry_text = rows[cid]
            score = scorer(entry_text)
            if score > 0:
                bisect.insort(best, (-score, code, row, entry_text), key=lambda b: (b[0], b[1]))
        if len(candidates) < batch:
            return [(row, t, -s) for s, _c, row, t in best[:need]]
        offset += batch
        batch *= 4


def _ranked_by_index(
    session: Session,
    parts: Sequence[_Part],
    where: Sequence[ColumnElement[bool]],
    *,
    need: int,
    skip: int,
    exact_name: str,
) -> tuple[list[tuple[CatalogueSearchRow, int]], int]:
    """Like :func:`_ranked` for search terms of at most three characters, without checking.

    For such terms the index is exact (a 3-character term is one trigram; a shorter one is the
    set of trigrams it begins), so the bound *is* the score and the candidates' order is the
    result's: only the page's rows are read, however deep the page. Two tiers, as
    :func:`_unnamed_bound` explains.

    Returns:
        (the rows and scores from position ``skip`` up to ``need``, how many were found up to
        ``need``).
    """
    outside = _unnamed_bound(parts)
    candidates: Sequence[Any] = []
    for named_only in (True, False) if _name_tier_worth_it(session, parts, need) else (False,):
        stmt = _candidates(
            session, parts, where, require_all=True, exact_name=exact_name, named_only=named_only
        )
        if stmt is None:
            if named_only:
                continue
            return [], 0
        with _index_scans(session):
            candidates = session.execute(stmt.limit(need)).all()
        if not named_only or (len(candidates) == need and candidates[-1][2] > outside):
            break
    page = candidates[skip:]
    rows = {
        row.id: row
        for row in session.execute(
            select(CatalogueSearchRow).where(CatalogueSearchRow.id.in_([i for i, _c, _b in page]))
        ).scalars()
    }
    return [(rows[i], ub) for i, _code, ub in page], len(candidates)


def _unnamed_bound(parts: Sequence[_Part]) -> int:
    """The most an entry with no part in its name can score (every part in every other column).

    Search ranks in two tiers: first only the entries with a term in their name (few, and the
    index intersects them without reading the rest); when the page's last entry there scores
    more than this bound, no other entry can reach the page. Otherwise all entries are ranked.
    """
    return sum(w for p in parts for col, w in p.weights if col != "name")


def _name_tier_worth_it(session: Session, parts: Sequence[_Part], need: int) -> bool:
    """Whether ranking the name tier first can fill the page: one term, found in at least
    ``need`` names (a probe that stops at ``need``). With more terms the tier is often most of
    the candidates, so it would only add work."""
    if len(parts) != 1:
        return False
    term = parts[0].term
    if _dialect(session) == "sqlite":
        expression = _fts_expression(session, term)
        if expression is None:
            return False
        probe = text(
            "SELECT count(*) FROM (SELECT rowid FROM catalogue_fts "
            "WHERE catalogue_fts MATCH :q LIMIT :n)"
        ).bindparams(q=f"{{name}} : ({expression})", n=need)
    else:
        probe = text(
            "SELECT count(*) FROM (SELECT 1 FROM catalogue_search "
            "WHERE catalogue_fts_grams @@ CAST(:q AS tsquery) LIMIT :n) AS named"
        ).bindparams(q=_tsquery(term, "n"), n=need)
    with _index_scans(session):
        return int(session.execute(probe).scalar_one()) >= need


def _rows_with_text(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, _Text]]:
    """The searchable rows with their text (data items from the published version)."""
    if not ids:
        return {}
    c, v = CatalogueSearchRow, CatalogueEntryVersion
    out: dict[int, tuple[Any, _Text]] = {}
    for start in range(0, len(ids), 1000):
        stmt = (
            select(c, v.content)
            .join(v, (v.entry_code == c.entry_code) & (v.version == c.version))
            .where(c.id.in_(ids[start : start + 1000]))
        )
        for row, content in session.execute(stmt).all():
            out[row.id] = (
                row,
                _Text(row.name_lc, row.description_lc, items_text(content["data_items"])),
            )
    return out


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


# --- the queries


def _search_scorer(terms: Sequence[str], full: str) -> Scorer:
    def score(t: _Text) -> int:
        everything = f"{t.name}\n{t.description}{t.items}"
        if not all(term in everything for term in terms):
            return 0
        total = W_EXACT_NAME if t.name == full else 0
        for term in terms:
            total += W_NAME * (term in t.name) + W_ITEMS * (term in t.items)
            total += W_DESCRIPTION * (term in t.description)
        return total

    return score


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

    An entry matches when every term is a substring of its name, description, or a data item's
    name or description (normalised). Score per term: 10 in the name, 4 in the data items, 2 in
    the description; +20 when the name is exactly the query. Highest score first, then code.

    Args:
        session: a session on the broker's store.
        query: whitespace-separated terms, all of which must occur; empty: browse by the
            filters, by code.
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
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    if not terms:
        stmt = select(c).where(*where).order_by(c.entry_code)
        rows = session.execute(stmt.limit(limit + 1).offset(offset)).scalars().all()
        return [_hit(row, 0) for row in rows[:limit]], len(rows) > limit
    full = normalise(query).strip()
    parts = [_Part(t, SEARCH_WEIGHTS) for t in terms]
    need = offset + limit + 1
    if all(len(t) <= 3 for t in terms):
        page, found = _ranked_by_index(
            session, parts, where, need=need, skip=offset, exact_name=full
        )
        return [_hit(row, score) for row, score in page[:limit]], found > offset + limit
    scorer = _search_scorer(terms, full)
    ranked: list[tuple[CatalogueSearchRow, _Text, int]] = []
    if _name_tier_worth_it(session, parts, need):
        ranked = _ranked(
            session, parts, where, scorer, need=need, require_all=True, exact_name=full,
            named_only=True,
        )  # fmt: skip
    if len(ranked) < need or ranked[-1][2] <= _unnamed_bound(parts):
        ranked = _ranked(
            session, parts, where, scorer, need=need, require_all=True, exact_name=full
        )
    hits = [_hit(row, score) for row, _t, score in ranked[offset : offset + limit]]
    return hits, len(ranked) > offset + limit


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

    An entry scores ``6`` per wanted item found among its data items, plus 3 / 2 / 1 per need
    term found in its name / data items / description; entries scoring 0 are not proposed.
    Highest score first, then entry code.

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
    terms = need_terms(need)
    wanted = [w for w in dict.fromkeys(normalise(i).strip() for i in items) if w][: MAX_TERMS * 4]
    if not terms and not wanted:
        return []

    def score(t: _Text) -> int:
        total = W_MATCH_ITEM * sum(w in t.items for w in wanted)
        for term in terms:
            total += 3 * (term in t.name) + 2 * (term in t.items) + (term in t.description)
        return total

    parts = [_Part(t, MATCH_WEIGHTS) for t in terms]
    parts += [_Part(w, (("items", W_MATCH_ITEM),)) for w in wanted]
    ranked = _ranked(
        session,
        parts,
        [_current(today), *_filtered(filters)],
        score,
        need=max(1, min(limit, MAX_LIMIT)),
        require_all=False,
    )
    return [_hit(row, s, _matched_items(t.items, wanted)) for row, t, s in ranked]


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
    wanted = [
        d
        for d in dict.fromkeys(
            normalise(i.get("description", "")).strip() for i in items if i["name"] != key_field
        )
        if d
    ]
    if not wanted:
        return []

    def provided(t: _Text) -> tuple[str, ...]:
        return tuple(w for w in wanted if f"\t{w}\n" in t.items)

    ranked = _ranked(
        session,
        [_Part(w, (("items", 1),)) for w in wanted],
        [_current(today), CatalogueSearchRow.provider != provider],
        lambda t: len(provided(t)),
        need=limit,
        require_all=False,
    )
    return [
        SharingHint(row.entry_code, row.provider, row.name, provided(t)) for row, t, _s in ranked
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
