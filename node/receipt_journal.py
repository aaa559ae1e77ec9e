"""The node's journal of the receipts it signed: what it answered, kept before the answer leaves.

The broker records every relayed call in its ledger once the node's answer is back; a broker that
dies in between would leave an answered query unrecorded. So the node journals each signed
receipt (durably, in its state directory) before returning it, and the broker reads the journal
back — at every start and on a schedule — and records any receipt its ledger lacks, marked late.

The journal holds only what the receipt already says (identifiers, digest, count, time, the
node's signature) and the method; never a query's or result's contents.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tongdao.node.group_commit import GroupCommit
from tongdao.proto.query import Receipt

JOURNAL_FILE = "node-receipts.db"
MAX_PAGE = 1000


@dataclass(frozen=True)
class JournaledReceipt:
    """One journal line: its position, the method answered and the signed receipt."""

    position: int
    method: str
    receipt: Receipt


class ReceiptJournal:
    """Append-only, durable (SQLite, WAL, synchronous=FULL), group-committed, thread-safe."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            directory / JOURNAL_FILE, timeout=30, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS receipts ("
                " position INTEGER PRIMARY KEY AUTOINCREMENT,"
                " request_id TEXT NOT NULL UNIQUE, grant_id TEXT NOT NULL, method TEXT NOT NULL,"
                " provider TEXT NOT NULL, result_digest BLOB NOT NULL,"
                " record_count INTEGER NOT NULL, answered_at TEXT NOT NULL,"
                " signature BLOB NOT NULL)"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS receipts_answered_at ON receipts (answered_at)"
            )
        self._commits: GroupCommit[tuple[str, Receipt], int] = GroupCommit(self._flush)

    def record(self, method: str, receipt: Receipt) -> int:
        """Journal one signed receipt; return its position once it is durable (idempotent per
        request id). Receipts journaled at the same time share one transaction and one fsync."""
        return self._commits.submit((method, receipt))

    def _flush(self, items: Sequence[tuple[str, Receipt]]) -> list[int]:
        positions = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for method, r in items:
                    self._db.execute(
                        "INSERT OR IGNORE INTO receipts (request_id, grant_id, method, provider,"
                        " result_digest, record_count, answered_at, signature)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
                    row = self._db.execute(
                        "SELECT position FROM receipts WHERE request_id = ?", (r.request_id,)
                    ).fetchone()
                    positions.append(int(row[0]))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return positions

    def after(self, position: int, limit: int = MAX_PAGE) -> list[JournaledReceipt]:
        """Receipts journaled after ``position``, oldest first, at most ``limit`` (≤ 1000)."""
        limit = max(1, min(limit, MAX_PAGE))
        with self._lock:
            rows = self._db.execute(
                "SELECT position, method, request_id, grant_id, provider, result_digest,"
                " record_count, answered_at, signature FROM receipts WHERE position > ?"
                " ORDER BY position LIMIT ?",
                (position, limit),
            ).fetchall()
        return [
            JournaledReceipt(int(p), m, Receipt(rid, gid, prov, bytes(dg), int(n), at, bytes(sig)))
            for p, m, rid, gid, prov, dg, n, at, sig in rows
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
