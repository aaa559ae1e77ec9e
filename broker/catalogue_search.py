"""Chinese full-text search over the published catalogue (CAT-8), the same results on SQLite and
PostgreSQL.

Chinese has no spaces between words, so word tokenisers do not work; both stores index character
trigrams instead — PostgreSQL with ``pg_trgm`` (a GIN index on ``search_text``), SQLite with an
FTS5 ``trigram`` table. The meaning of a query is defined here, once: every term (split on spaces
and punctuation, NFKC and case-folded) must occur as a substring of the entry's text. The index
narrows the candidates for terms of three or more characters; shorter terms (``婚姻``, ``户籍``
are two characters) are checked directly, and every candidate is re-checked in Python, so both
stores return exactly the same entries. Ranking: a term in the name counts 3, in a data item 2,
elsewhere 1; ties by code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from broker.models import CatalogueEntry, CatalogueEntryVersion, Department

SPLIT = re.compile(r"[\s,，。、;；:：/|()（）\[\]【】\"'“”‘’]+")
MAX_TERMS = 8
MAX_RESULTS = 200


def normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def terms_of(query: str) -> list[str]:
    return [t for t in SPLIT.split(normalise(query)) if t][:MAX_TERMS]


def search_text(content: dict[str, Any], provider_name: str) -> str:
    """The text an entry is found by (one line per part, so terms do not span parts)."""
    parts = [
        content["code"],
        content["name"],
        content.get("description", ""),
        provider_name,
        content.get("classification", ""),
    ]
    for item in content["data_items"]:
        parts += [item["name"], item.get("description", "")]
    return normalise("\n".join(parts))


def index_entry(session: Session, entry: CatalogueEntry) -> None:
    """Refresh the search text of an entry from its published version."""
    snap = session.get(CatalogueEntryVersion, (entry.code, entry.current_version))
    if snap is None:
        return
    provider = session.get(Department, entry.provider)
    entry.search_text = search_text(snap.content, provider.name if provider else "")
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


def _score(content: dict[str, Any], terms: list[str]) -> int:
    name = normalise(content["name"])
    items = normalise(
        " ".join(i["name"] + " " + i.get("description", "") for i in content["data_items"])
    )
    return sum(3 if t in name else 2 if t in items else 1 for t in terms)


def search(
    session: Session,
    query: str,
    *,
    provider: str = "",
    share_type: str = "",
    open_type: str = "",
    limit: int = 20,
) -> list[SearchHit]:
    """Published entries matching every term of ``query``, best first."""
    terms = terms_of(query)
    stmt = select(CatalogueEntry).where(CatalogueEntry.current_version >= 1)
    if provider:
        stmt = stmt.where(CatalogueEntry.provider == provider)
    long_terms = [t for t in terms if len(t) >= 3]
    dialect = session.get_bind().dialect.name
    if long_terms and dialect == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        codes = (
            select(text("code"))
            .select_from(text("catalogue_fts"))
            .where(text("catalogue_fts MATCH :m"))
        )
        stmt = stmt.where(CatalogueEntry.code.in_(codes)).params(m=match)
    for t in terms:
        # pg_trgm serves these LIKEs from the GIN index for terms of 3+ characters
        if dialect != "sqlite" or len(t) < 3:
            escaped = t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(or_(CatalogueEntry.search_text.like(f"%{escaped}%", escape="\\")))
    hits = []
    for entry in session.execute(stmt).scalars():
        snap = session.get(CatalogueEntryVersion, (entry.code, entry.current_version))
        if snap is None:
            continue
        content = snap.content
        if share_type and content.get("effective_share_type") != share_type:
            continue
        if open_type and content.get("open_type") != open_type:
            continue
        if not all(t in entry.search_text for t in terms):  # the one definition of a match
            continue
        hits.append(SearchHit(entry, content, _score(content, terms)))
    hits.sort(key=lambda h: (-h.score, h.entry.code))
    return hits[: min(limit, MAX_RESULTS)]
