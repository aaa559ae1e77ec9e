"""Catalogue tables: entries, their published versions and the searchable view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


class CatalogueEntry(Base):
    """A catalogue entry (CAT-1): the working copy; published versions are snapshots."""

    __tablename__ = "catalogue_entries"

    code: Mapped[str] = mapped_column(String(128), primary_key=True)
    provider: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # CAT-5: who reviews it (the authority one level up for city and county providers).
    reviewer: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # CAT-7: a revoked entry in use is served until this day (Asia/Shanghai), then withdrawn.
    sunset_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    revocation_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


SEARCH_INDEX_OBJECTS = ("catalogue_fts", "ix_catalogue_search_trgm")


def is_search_index_object(name: str | None) -> bool:
    """True for the full-text objects schema comparison must ignore (see migration 0005)."""
    return bool(name) and any(str(name).startswith(prefix) for prefix in SEARCH_INDEX_OBJECTS)


class CatalogueSearchRow(Base):
    """The searchable view of one entry's current published version (CAT-8, OPN-1).

    Derived: rewritten on every publish, revocation decision and withdrawal, deleted when the
    entry is withdrawn. Narrow on purpose (ranking reads it for every candidate); the data items'
    text lives in the gram index and in the published version (see broker.catalogue.search).
    """

    __tablename__ = "catalogue_search"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_code: Mapped[str] = mapped_column(ForeignKey("catalogue_entries.code"), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(6), index=True)
    share_type: Mapped[str] = mapped_column(String(16), index=True)
    open_type: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(String(16))
    sunset_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    tags: Mapped[str] = mapped_column(Text)  # "|population|thematic|"
    grades: Mapped[str] = mapped_column(Text)  # "|general|personal|"
    name: Mapped[str] = mapped_column(Text)
    name_lc: Mapped[str] = mapped_column(Text)
    description_lc: Mapped[str] = mapped_column(Text)


class CatalogueEntryVersion(Base):
    """An immutable published version of a catalogue entry; grants name the version."""

    __tablename__ = "catalogue_entry_versions"

    entry_code: Mapped[str] = mapped_column(ForeignKey("catalogue_entries.code"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(64))
