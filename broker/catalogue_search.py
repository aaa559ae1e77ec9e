"""Chinese full-text search over the published catalogue (CAT-8), the same results on SQLite and
PostgreSQL.

Chinese has no spaces between words, so word tokenisers do not work; both stores index character
trigrams instead — PostgreSQL with ``pg_trgm`` (a GIN index on ``search_text``), SQLite with an
FTS5 ``trigram`` table. The meaning of a query is defined once, in SQL both stores run the same
way: every term (split on spaces and punctuation, NFKC and case-folded) must occur as a substring
of the entry's text; a term in the name scores 3, in a data item 2, elsewhere 1; ties by code; the
database ranks and returns only the page asked for. The trigram index narrows the scan for terms
of three or more characters; shorter terms (``婚姻``, ``户籍`` are two characters) are matched by
the same ``LIKE``, only without the index's help.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, literal, select, text
from sqlalchemy.orm import Session

from broker.models import CatalogueEntry, CatalogueEntryVersion, Department

SPLIT = re.compile(r"[\s,，。、;；:：/|()（）\[\]【】\"'“”‘’]+")
MAX_TERMS = 8
MAX_RESULTS = 200


def normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def terms_of(query: str) -> list[str]:
    return [t for t in SPLIT.split(normalise(query)) if t][:MAX_TERMS]


def search_fields(content: dict[str, Any], provider_name: str) -> dict[str, str]:
    """The normalised texts an entry is found and ranked by (lines keep parts apart)."""
    items = "\n".join(f"{i['name']}\n{i.get('description', '')}" for i in content["data_items"])
    everything = [
        content["code"],
        content["name"],
        content.get("description", ""),
        provider_name,
        content.get("classification", ""),
        items,
    ]
    return {
        "search_text": normalise("\n".join(everything)),
        "search_name": normalise(content["name"]),
        "search_items": normalise(items),
        "published_share_type": content.get("effective_share_type", content.get("share_type", "")),
        "published_open_type": content.get("open_type", ""),
    }


def index_entry(session: Session, entry: CatalogueEntry) -> None:
    """Refresh the search columns of an entry from its published version."""
    snap = session.get(CatalogueEntryVersion, (entry.code, entry.current_version))
    if snap is None:
        return
    provider = session.get(Department, entry.provider)
    for key, value in search_fields(snap.content, provider.name if provider else "").items():
        setattr(entry, key, value)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM catalogue_fts WHERE code = :c"), {"c": entry.code})
        session.execute(
            text("INSERT INTO catalogue_fts (code, search_text) VALUES (:c, :t)"),
            {"c": entry.code, "t": entry.search_text},
        )


@dataclass(frozen=True)
class SearchHit:
    entry: CatalogueEntry
    content: dict[str, Any]
    score: int


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    session: Session,
    query: str,
    *,
    provider: str = "",
    share_type: str = "",
    open_type: str = "",
    limit: int = 20,
) -> list[SearchHit]:
    """Published entries matching every term of ``query``, best first (at most ``limit``)."""
    terms = terms_of(query)
    if not terms:
        return []
    score = sum(
        (
            case(
                (CatalogueEntry.search_name.like(_like(t), escape="\\"), 3),
                (CatalogueEntry.search_items.like(_like(t), escape="\\"), 2),
                else_=1,
            )
            for t in terms
        ),
        literal(0),
    ).label("score")
    stmt = select(CatalogueEntry.code, score).where(CatalogueEntry.current_version >= 1)
    for t in terms:
        stmt = stmt.where(CatalogueEntry.search_text.like(_like(t), escape="\\"))
    long_terms = [t for t in terms if len(t) >= 3]
    if long_terms and session.get_bind().dialect.name == "sqlite":
        # FTS5 trigram narrows the candidates; the LIKEs above still define the match
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        fts = text("SELECT code FROM catalogue_fts WHERE catalogue_fts MATCH :m").bindparams(
            m=match
        )
        stmt = stmt.where(CatalogueEntry.code.in_(fts))
    if provider:
        stmt = stmt.where(CatalogueEntry.provider == provider)
    if share_type:
        stmt = stmt.where(CatalogueEntry.published_share_type == share_type)
    if open_type:
        stmt = stmt.where(CatalogueEntry.published_open_type == open_type)
    page = session.execute(
        stmt.order_by(score.desc(), CatalogueEntry.code).limit(min(limit, MAX_RESULTS))
    ).all()
    hits = []
    for code, points in page:
        entry = session.get(CatalogueEntry, code)
        snap = session.get(CatalogueEntryVersion, (code, entry.current_version)) if entry else None
        if entry is not None and snap is not None:
            hits.append(SearchHit(entry, snap.content, int(points)))
    return hits
