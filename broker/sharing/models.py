"""Sharing tables: share requests, service requests and grants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


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
    # the lower-level department that decides it under a regional split (SHR-4, Art.23)
    delegate: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


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
    token: Mapped[str] = mapped_column(Text, index=True)
    # the latest status change (suspension, termination, reinstatement); each is in the ledger
    status_ground: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_article: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_changed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # the lower-level department that decided it under a regional split (Art.23), if any
    delegate: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the return-flow arrangement it was issued under (Art.26), if any
    return_flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class UsageRecord(Base):
    """What a consumer did with the data of a grant (SHR-9, Art.28): the scenario, the outcome,
    the process, the storage and the destruction, kept until ``retain_until``
    (``periods.usage_record_retention``)."""

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), index=True)
    consumer: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    entry_code: Mapped[str] = mapped_column(String(128), index=True)
    scenario: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    process: Mapped[str] = mapped_column(Text)
    storage: Mapped[str] = mapped_column(Text)
    destruction: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    retain_until: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)


class GrantChange(Base):
    """A consumer's request to change what a grant allows (SHR-11, Art.30): more data items, a
    further purpose, or passing the data on to a third party; the provider consents or refuses
    with reasons. A grant's scope changes only through a consented change."""

    __tablename__ = "grant_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), index=True)
    consumer: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    third_party: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    decision_reason: Mapped[str] = mapped_column(Text)
    result_grant_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PublicAccessSuspension(Base):
    """A public requester (a person or organisation named on open-data requests) whose access
    is suspended for misusing open data, until it has corrected the misuse (OPN-4, Art.43)."""

    __tablename__ = "public_access_suspensions"

    requester: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # "suspended" | "reinstated"
    ground: Mapped[str] = mapped_column(String(64))
    article: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    correction: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RegionalSplit(Base):
    """A provider's split of one catalogue entry by region, each region's requests delegated to
    a lower-level department (SHR-4, Art.23), as filed with the same-level data authority."""

    __tablename__ = "regional_splits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entry_code: Mapped[str] = mapped_column(ForeignKey("catalogue_entries.code"), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    # [{"region": "230100", "department": "hrb.gaj"}, ...]
    territories: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # filed | recorded | refused
    reviewer: Mapped[str] = mapped_column(String(64), index=True)
    decision_reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReturnFlow(Base):
    """An upper-level provider's return flow of one entry to lower-level departments by
    territory (SHR-7, Art.26): each named department holds a grant on its territory's records."""

    __tablename__ = "return_flows"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entry_code: Mapped[str] = mapped_column(ForeignKey("catalogue_entries.code"), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    territories: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    grant_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # published | withdrawn
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawal_reason: Mapped[str] = mapped_column(Text)
