"""Typical cases tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


class TypicalCase(Base):
    """A typical use case (Art.31): who applied shared data (``department``, described in
    ``subject``), in which scenario, from which data sources, with what outcome; the grants it
    used; the authority that recorded it. ``region`` is the applying department's region."""

    __tablename__ = "typical_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(6), index=True)
    subject: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    data_sources: Mapped[list[str]] = mapped_column(JSON)
    grants: Mapped[list[str]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64), index=True)
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    article: Mapped[str] = mapped_column(String(32))
