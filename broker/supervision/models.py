"""Supervision tables: working-day deadlines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    String,
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
