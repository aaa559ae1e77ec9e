"""SQLAlchemy 2.0 models of the broker's store (one schema for SQLite and PostgreSQL).

Times are stored as timezone-aware UTC; working-day dates (due dates) as plain dates in the
calendar's zone (Asia/Shanghai). List-valued attributes are JSON arrays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every broker table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Department(Base):
    """A department in the directory (Art.9): who it is, where its node is, its public keys."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    node_endpoint: Mapped[str] = mapped_column(String(255), default="")
    encryption_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signing_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    is_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


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


# Search objects that live outside the models (migrations 0005, 0006): the SQLite FTS5 table
# with its shadow and vocabulary tables, the PostgreSQL gram column and its GIN index (and the
# pg_trgm index of 0005, which 0006 drops).
SEARCH_INDEX_OBJECTS = ("catalogue_fts", "ix_catalogue_search_trgm")


def is_search_index_object(name: str | None) -> bool:
    """True for the full-text objects schema comparison must ignore (see migration 0005)."""
    return bool(name) and any(str(name).startswith(prefix) for prefix in SEARCH_INDEX_OBJECTS)


class CatalogueSearchRow(Base):
    """The searchable view of one entry's current published version (CAT-8, OPN-1).

    Derived: rewritten on every publish, revocation decision and withdrawal, deleted when the
    entry is withdrawn. Narrow on purpose (ranking reads it for every candidate); the data items'
    text lives in the gram index and in the published version (see broker.catalogue_search).
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


class ShareRequest(Base):
    """A consumer's request to use a catalogue entry (SHR-1) and the decision on it (SHR-2)."""

    __tablename__ = "share_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consumer: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    provider: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    entry_code: Mapped[str] = mapped_column(ForeignKey("catalogue_entries.code"))
    entry_version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSON)
    methods: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    regions: Mapped[list[str]] = mapped_column(JSON)
    validity_days: Mapped[int] = mapped_column(Integer)
    quota: Mapped[int] = mapped_column(Integer)
    dp_epsilon: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    dp_budget: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    status: Mapped[str] = mapped_column(String(32), index=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    grant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class ServiceRequest(Base):
    """A time-limited request other than a share request: a data need (SHR-10, Art.29), a
    correction (SHR-5, Art.24) or a conditional-open data request (OPN-2, Art.34)."""

    __tablename__ = "service_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    requester: Mapped[str] = mapped_column(String(200))
    filed_by: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    fulfilled_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Grant(Base):
    """A grant issued on an approved share request; its signed token is what nodes check."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    share_request_id: Mapped[str] = mapped_column(ForeignKey("share_requests.id"))
    consumer: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    provider: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    entry_code: Mapped[str] = mapped_column(ForeignKey("catalogue_entries.code"))
    entry_version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSON)
    methods: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    regions: Mapped[list[str]] = mapped_column(JSON)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    quota: Mapped[int] = mapped_column(Integer)
    dp_epsilon: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    dp_budget: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    used: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(Text)


class Deadline(Base):
    """A time-limited item (SUP-1): due at the end of the Nth working day after it started."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    responsible: Mapped[str] = mapped_column(String(64), index=True)
    article: Mapped[str] = mapped_column(String(32))
    working_days: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closed_late: Mapped[bool] = mapped_column(Boolean, default=False)
    extensions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LedgerEntry(Base):
    """One link of the hash-chained ledger (PRIV-7). Rows are only ever appended."""

    __tablename__ = "ledger_entries"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    payload_json: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The single row naming the ledger's length and head hash, signed by the broker.

    Appenders lock this row (``SELECT … FOR UPDATE``), so several broker processes on one
    PostgreSQL database still produce one linear chain.
    """

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    length: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


# the Merkle log's tables share this metadata (migrations compare against it)
from tongdao.broker import ledger_tables as _ledger_tables  # noqa: E402, F401
