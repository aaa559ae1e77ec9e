"""Ledger tables: the hash-chained entries and the signed head."""

from __future__ import annotations

from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongdao.broker.kernel.base import Base


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
