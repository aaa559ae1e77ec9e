"""Reading the catalogue's search index: candidates with an upper bound of their score, checked
best bound first (see :mod:`tongdao.broker.catalogue.search`)."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    column,
    func,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from tongdao.broker.catalogue.models import CatalogueEntryVersion, CatalogueSearchRow
from tongdao.broker.catalogue.search_index import (
    INDEX_COLUMNS,
    MIN_BATCH,
    W_DESCRIPTION,
    W_EXACT_NAME,
    W_ITEMS,
    W_NAME,
    _contains,
    _dialect,
    _quote_lexeme,
    items_text,
)


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
