"""Supervision tables: working-day deadlines and the official holiday schedules they count on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
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
