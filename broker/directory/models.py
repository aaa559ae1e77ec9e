"""Directory tables: departments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


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
