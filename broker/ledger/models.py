"""Ledger tables: the hash-chained entries and the signed head; the Merkle log's tree, its
checkpoints and cosignatures, the request-id index, archive marks, journal cursors and refusal
folds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
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


class LedgerTree(Base):
    """The single row holding the tree's size and right edge (compact range), updated under the
    ledger head's lock, so an append costs O(log n)."""

    __tablename__ = "ledger_tree"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    compact_range: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerTreeNode(Base):
    """The hash of one complete subtree: leaves ``[idx·2^level, (idx+1)·2^level)``; level 0 are
    the leaf hashes. Proofs read O(log n) of these; archiving entries keeps them."""

    __tablename__ = "ledger_tree_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A checkpoint the broker signed (C2SP signed note, without cosignatures)."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(String(40))


class LedgerCosignature(Base):
    """A witness's cosignature line on a checkpoint (cosignature/v1)."""

    __tablename__ = "ledger_cosignatures"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[str] = mapped_column(Text)


class LedgerRequestIndex(Base):
    """Which ledger entry recorded a relayed request id (to reconcile the nodes' journals)."""

    __tablename__ = "ledger_request_index"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer)


class LedgerArchive(Base):
    """Entries up to ``last_sequence`` moved to an archive file; their tree nodes stay."""

    __tablename__ = "ledger_archives"

    last_sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    archive_sha256: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[str] = mapped_column(String(40))


class LedgerJournalCursor(Base):
    """How far the broker has reconciled a node's receipt journal."""

    __tablename__ = "ledger_journal_cursors"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class LedgerRefusalFold(Base):
    """Identical refusals in the current fold period: the first is an entry, the rest a count."""

    __tablename__ = "ledger_refusal_folds"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    payload_json: Mapped[str] = mapped_column(Text)
    first_sequence: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer)
