"""The node's journal of the receipts it signed: what it answered, kept before the answer leaves.

The broker records every relayed call in its ledger once the node's answer is back; a broker that
dies in between would leave an answered query unrecorded. So the node journals each signed
receipt (durably, in its state directory) before returning it, and the broker reads the journal
back — at every start and on a schedule — and records any receipt its ledger lacks, marked late.

The journal is a table of the node's state file (:mod:`node.state`): a unary answer's receipt is
written in the same transaction — one savepoint, one fsync — as its request id and its use of the
grant's quota, so the three are durable together or not at all. It holds only what the receipt
already says (identifiers, digest, count, time, the node's signature) and the method; never a
query's or result's contents.

A journal kept in a file of its own (``node-receipts.db``, as nodes wrote it before) is merged
into the state file the first time the node opens it, positions kept, and the old file renamed.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tongdao.proto.query import Receipt

if TYPE_CHECKING:
    from tongdao.node.state import NodeState

MAX_PAGE = 1000
SEPARATE_FILE = "node-receipts.db"  # where nodes kept the journal before it joined the state file
MERGED_SUFFIX = ".merged"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS receipts ("
    " position INTEGER PRIMARY KEY AUTOINCREMENT,"
    " request_id TEXT NOT NULL UNIQUE, grant_id TEXT NOT NULL, method TEXT NOT NULL,"
    " provider TEXT NOT NULL, result_digest BLOB NOT NULL,"
    " record_count INTEGER NOT NULL, answered_at TEXT NOT NULL,"
    " signature BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS receipts_answered_at ON receipts (answered_at)",
)
_INSERT = (
    "INSERT OR IGNORE INTO receipts (request_id, grant_id, method, provider, result_digest,"
    " record_count, answered_at, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_POSITION = "SELECT position FROM receipts WHERE request_id = ?"


@dataclass(frozen=True)
class JournaledReceipt:
    """One journal line: its position, the method answered and the signed receipt."""

    position: int
    method: str
    receipt: Receipt


def journal_receipt(db: sqlite3.Connection, method: str, r: Receipt) -> int:
    """Write one receipt in the caller's transaction; return its position (idempotent per
    request id: a receipt journaled before keeps its position)."""
    db.execute(
        _INSERT,
        (
            r.request_id,
            r.grant_id,
            method,
            r.provider,
            r.result_digest,
            r.record_count,
            r.answered_at,
            r.signature,
        ),
    )
    return int(db.execute(_POSITION, (r.request_id,)).fetchone()[0])


def merge_separate_file(db: sqlite3.Connection, directory: Path) -> int:
    """Copy a journal kept in its own file into ``db``'s table (positions kept), then rename
    the old file; return how many receipts were copied. Run once, before any other write."""
    old = directory / SEPARATE_FILE
    if not old.exists():
        return 0
    db.execute("ATTACH DATABASE ? AS separate", (str(old),))
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            copied = db.execute(
                "INSERT OR IGNORE INTO main.receipts (position, request_id, grant_id, method,"
                " provider, result_digest, record_count, answered_at, signature)"
                " SELECT position, request_id, grant_id, method, provider, result_digest,"
                " record_count, answered_at, signature FROM separate.receipts ORDER BY position"
            ).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.execute("DETACH DATABASE separate")  # the old file's WAL is checkpointed and removed
    old.rename(old.with_name(old.name + MERGED_SUFFIX))
    return copied


class ReceiptJournal:
    """The receipts table of a node's state: durable, group-committed, thread-safe reads."""

    def __init__(self, state: NodeState) -> None:
        self._state = state
        self._db = state.connection()  # reads only; writes go through the state's group commit
        self._lock = threading.Lock()

    def record(self, method: str, receipt: Receipt) -> int:
        """Journal one signed receipt on its own; return its position once it is durable
        (idempotent per request id). A unary answer's receipt is journaled with its use instead
        (:meth:`NodeState.record`); streams and aggregates, whose use is recorded before the
        answer is computed, journal it here."""
        return self._state.journal(method, receipt)

    def after(self, position: int, limit: int = MAX_PAGE) -> list[JournaledReceipt]:
        """Receipts journaled after ``position``, oldest first, at most ``limit`` (≤ 1000)."""
        limit = max(1, min(limit, MAX_PAGE))
        with self._lock:
            rows = self._db.execute(
                "SELECT position, request_id, grant_id, method, provider, result_digest,"
                " record_count, answered_at, signature FROM receipts WHERE position > ?"
                " ORDER BY position LIMIT ?",
                (position, limit),
            ).fetchall()
        return [
            JournaledReceipt(int(p), m, Receipt(rid, gid, prov, bytes(dg), int(n), at, bytes(sig)))
            for p, rid, gid, m, prov, dg, n, at, sig in rows
        ]

    def answered_between(self, start: str, end: str) -> dict[str, list[str]]:
        """Grant id → the request ids answered in ``[start, end)`` (RFC 3339 UTC, as receipts
        write ``answered_at``), sorted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT grant_id, request_id FROM receipts"
                " WHERE answered_at >= ? AND answered_at < ? ORDER BY grant_id, request_id",
                (start, end),
            ).fetchall()
        grants: dict[str, list[str]] = {}
        for grant_id, request_id in rows:
            grants.setdefault(grant_id, []).append(request_id)
        return grants

    def close(self) -> None:
        with self._lock:
            self._db.close()
