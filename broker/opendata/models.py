"""Open-data tables: withdrawals of open data (OPN-3, Art.35)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


class OpenDataWithdrawal(Base):
    """A provider's request to withdraw an entry's open data: reviewed by the same-level data
    authority, then filed with the provincial authority and announced on the public listener."""

    __tablename__ = "open_data_withdrawals"
    __table_args__ = (Index("ix_open_data_withdrawals_entry", "entry_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entry_code: Mapped[str] = mapped_column(String(128))
    entry_name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # "pending" | "withdrawn" | "refused"
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reviewer: Mapped[str] = mapped_column(String(64))  # the same-level data authority
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    filed_with: Mapped[str] = mapped_column(String(64), default="")  # the provincial authority
    filed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    announced_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    article: Mapped[str] = mapped_column(String(32))
