"""Supervision tables: working-day deadlines and the official holiday schedules they count on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


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
    # the working days the granted extensions added (to recount the clock from its start)
    extended_working_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class HolidaySchedule(Base):
    """A year's official holiday schedule loaded by the authority (the State Council's notice),
    kept in the validated TOML form of docs/policies.md."""

    __tablename__ = "holiday_schedules"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(500))
    schedule: Mapped[str] = mapped_column(Text)
    loaded_on: Mapped[dt.date] = mapped_column(Date)
    loaded_by: Mapped[str] = mapped_column(String(64))


class MisuseFinding(Base):
    """A misuse finding (Art.27): one kind of misuse of one grant, with its ledger evidence.

    ``key`` (kind, grant, and for a usage spike its window) makes a finding recorded once, however
    often detection runs; the ledger entry ``finding.recorded`` is at ``sequence``."""

    __tablename__ = "misuse_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    grant_id: Mapped[str] = mapped_column(String(36), index=True)
    consumer: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    article: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[list[int]] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text)  # in English (as in its ledger entry)
    # the detail's message template and fields, so it is shown in each reader's language
    detail_template: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    found_on: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)


class RectificationOrder(Base):
    """An order to rectify a misuse of a grant by a working-day due date (Art.27, 41, 43; SUP-2).

    ``status``: ``open`` (waiting for the consumer), ``answered`` (the consumer said what it
    changed; the issuer decides), ``accepted`` (rectified; closed), ``suspended`` (due date passed:
    the grant is suspended; the termination clock runs) or ``terminated`` (the grant is ended)."""

    __tablename__ = "rectification_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(String(36), index=True)
    issuer: Mapped[str] = mapped_column(String(64))
    consumer: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    ground: Mapped[str] = mapped_column(String(64))
    article: Mapped[str] = mapped_column(String(32))
    requirement: Mapped[str] = mapped_column(Text)
    findings: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    terminate_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)


class MisuseScanCursor(Base):
    """How far misuse detection has read the ledger: each round reads only the entries after
    ``last_sequence`` (one row, ``name = "ledger"``)."""

    __tablename__ = "misuse_scan_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class GrantCallHour(Base):
    """Answered calls of one grant in one hour (UTC), tallied as detection reads the ledger;
    usage spikes compare a grant's recent hours with its own history from these rows."""

    __tablename__ = "grant_call_hours"

    grant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)


class AggregateFilterShape(Base):
    """The declared filter shape of one answered aggregate (crypto.filter_shape): compared with
    later aggregates of the same consumer–provider pair to find differencing."""

    __tablename__ = "aggregate_filter_shapes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sequence: Mapped[int] = mapped_column(Integer)
    grant_id: Mapped[str] = mapped_column(String(36))
    pair: Mapped[str] = mapped_column(String(130), index=True)  # "consumer>provider"
    field: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(16))
    values: Mapped[list[str]] = mapped_column(JSON)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
