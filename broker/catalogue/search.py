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

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.models import CatalogueEntryVersion, CatalogueSearchRow
from tongdao.broker.catalogue.search_index import (
    MATCH_WEIGHTS,
    MAX_LIMIT,
    MAX_NEED_GRAMS,
    MAX_TERMS,
    SEARCH_WEIGHTS,
    W_MATCH_ITEM,
    normalise,
    query_terms,
)
from tongdao.broker.catalogue.search_ranking import (
    SearchFilters,
    SearchHit,
    _current,
    _filtered,
    _grams,
    _hit,
    _name_tier_worth_it,
    _Part,
    _ranked,
    _ranked_by_index,
    _search_scorer,
    _Text,
    _unnamed_bound,
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
    session: Session,
    *,
    today: dt.date,
    provider: str = "",
    limit: int = 100,
    offset: int = 0,
    exclude: Collection[str] = (),
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
    if exclude:  # open data withdrawn (Art.35)
        stmt = stmt.where(c.entry_code.not_in(sorted(exclude)))
    limit = max(1, min(limit, MAX_LIMIT * 5))
    rows = session.execute(stmt.limit(limit + 1).offset(max(0, offset))).all()
    return [(row, content) for row, content in rows[:limit]], len(rows) > limit
