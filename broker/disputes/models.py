"""Disputes tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


class Dispute(Base):
    """A dispute between the two parties of a share request, grant, correction or finding.

    ``stage``: ``same_level`` (the data authority of the parties' region and level),
    ``provincial`` (the provincial authority: the parties differ in region or level) or
    ``coordination`` (referred to the data coordination mechanism). ``status``: ``open`` (with
    the handler), ``resolved`` (its outcome recorded) or ``withdrawn`` (by the party that opened
    it). ``handler`` is the department (or ``authority``) that coordinates and records."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    opened_by: Mapped[str] = mapped_column(String(64), index=True)
    respondent: Mapped[str] = mapped_column(String(64), index=True)
    claim: Mapped[str] = mapped_column(Text)
    negotiation: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    handler: Mapped[str] = mapped_column(String(64), index=True)
    routing: Mapped[str] = mapped_column(Text)
    # the routing reason's message template (None on rows older than it), for each reader's language
    routing_template: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    article: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(Text, default="")
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
