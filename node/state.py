"""The node's own small store: request ids already answered (replay refusal) and per-grant use.

It lives in the node's state directory (SQLite, WAL, ``synchronous=FULL``), so a restart — or a
kill -9 — does not reset replay protection or quotas. Four tables, created on first use: the
fourth is the journal of signed receipts (:mod:`node.receipt_journal`).

Every write goes through one :class:`~node.group_commit.GroupCommit`: queries answered at the
same time share one ``BEGIN IMMEDIATE`` transaction and one fsync, each inside its own
savepoint, so one query's refusal never undoes another's record. A unary answer's request id,
its use of the quota and its signed receipt are one item: they commit together or not at all.
The caller returns only once the transaction holding its record has committed: an answer is
never sent before its request id, its use of the quota and its receipt are durable.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tongdao.node import receipt_journal
from tongdao.node.group_commit import GroupCommit
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.query import Receipt, canonical_request_id

STATE_FILE = "node-state.db"
CACHE_KIB = 256  # SQLite's page cache per connection (its default is 2 MiB)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS answered_requests (request_id VARCHAR(36) NOT NULL,"
    " grant_id VARCHAR(36) NOT NULL, answered_at DATETIME NOT NULL, PRIMARY KEY (request_id))",
    "CREATE INDEX IF NOT EXISTS ix_answered_requests_grant_id ON answered_requests (grant_id)",
    "CREATE TABLE IF NOT EXISTS grant_use (grant_id VARCHAR(36) NOT NULL,"
    " used INTEGER NOT NULL, PRIMARY KEY (grant_id))",
    "CREATE TABLE IF NOT EXISTS dp_spent (grant_id VARCHAR(36) NOT NULL,"
    " spent_milli INTEGER NOT NULL, PRIMARY KEY (grant_id))",
)
_SEEN = "SELECT 1 FROM answered_requests WHERE request_id = ?"
_USED = "SELECT used FROM grant_use WHERE grant_id = ?"
_ANSWER = "INSERT INTO answered_requests (request_id, grant_id, answered_at) VALUES (?, ?, ?)"
_COUNT = "UPDATE grant_use SET used = used + 1 WHERE grant_id = ? AND used < ?"
_FIRST_USE = "INSERT INTO grant_use (grant_id, used) VALUES (?, 1)"
_SPENT = "SELECT spent_milli FROM dp_spent WHERE grant_id = ?"
_SPEND = (
    "INSERT INTO dp_spent (grant_id, spent_milli) VALUES (?, ?) ON CONFLICT (grant_id)"
    " DO UPDATE SET spent_milli = spent_milli + excluded.spent_milli"
)


class BudgetExhausted(Exception):
    """The grant's differential-privacy budget cannot pay for another query."""


class ReplayError(Exception):
    """The request id was answered before."""


class QuotaError(Exception):
    """The grant's quota is used up."""


@dataclass(frozen=True)
class _Answer:
    """Mark ``request_id`` answered; count it against ``grant_id`` unless ``quota`` is None;
    journal ``receipt`` (method, receipt) with it when given."""

    request_id: str
    grant_id: str
    quota: int | None
    at: str
    receipt: tuple[str, Receipt] | None = None


@dataclass(frozen=True)
class _Journal:
    """Journal a signed receipt on its own (its use was recorded before)."""

    method: str
    receipt: Receipt


@dataclass(frozen=True)
class _Spend:
    grant_id: str
    epsilon_milli: int
    budget_milli: int


class NodeState:
    """Replay and quota bookkeeping, exact across threads, processes and restarts.

    Each query costs one read (:meth:`check`, a WAL snapshot that does not wait for writers)
    and one share of a group-committed write transaction (:meth:`record`): the request id's
    primary key makes a replay fail even under a race, and the quota is a conditional
    ``UPDATE … WHERE used < quota``, so concurrent queries never overrun it — also when another
    process writes the same file, since the transaction, not this object, decides.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / STATE_FILE
        self._writer = self.connection()
        self._writer.execute("PRAGMA journal_mode=WAL")
        for statement in (*_SCHEMA, *receipt_journal.SCHEMA):
            self._writer.execute(statement)
        receipt_journal.merge_separate_file(self._writer, directory)
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._commits: GroupCommit[_Answer | _Spend | _Journal, int | None] = GroupCommit(
            self._flush
        )

    def connection(self) -> sqlite3.Connection:
        """A new connection to the state file (the caller closes it)."""
        return connect(self.path)

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self.connection()
            with self._lock:
                self._readers.append(db)
            self._local.db = db
        return db

    # ------------------------------------------------------------------ reads
    def seen(self, request_id: str) -> bool:
        """Whether ``request_id`` was answered already (in any spelling of the same UUID)."""
        return self._reader().execute(_SEEN, (_canonical(request_id),)).fetchone() is not None

    def used(self, grant_id: str) -> int:
        """Queries answered under ``grant_id``."""
        row = self._reader().execute(_USED, (grant_id,)).fetchone()
        return int(row[0]) if row else 0

    def check(self, request_id: str, grant_id: str, quota: int) -> None:
        """Refuse early, in one read: a request id answered before, or a used-up quota.

        Raises:
            ReplayError / QuotaError.
        """
        db = self._reader()
        db.execute("BEGIN")  # one snapshot: a racing copy's commit is seen whole or not at all
        try:
            seen = db.execute(_SEEN, (_canonical(request_id),)).fetchone() is not None
            row = db.execute(_USED, (grant_id,)).fetchone()
        finally:
            db.execute("COMMIT")
        if seen:
            raise ReplayError(request_id)
        if (int(row[0]) if row else 0) >= quota:
            raise QuotaError(grant_id)

    # ------------------------------------------------------------------ writes
    def record(
        self,
        request_id: str,
        grant_id: str,
        quota: int,
        now: dt.datetime,
        *,
        receipt: tuple[str, Receipt] | None = None,
    ) -> None:
        """Atomically mark the request answered, count one use against the quota and, when
        ``receipt`` (method, signed receipt) is given, journal it; return once all are durable.

        Raises:
            ReplayError: the request id was recorded before (also under a race).
            QuotaError: the grant has no queries left (nothing is recorded or journaled).
        """
        self._commits.submit(_Answer(_canonical(request_id), grant_id, quota, _stamp(now), receipt))

    def journal(self, method: str, receipt: Receipt) -> int:
        """Journal a signed receipt whose use was recorded before; return its position once it
        is durable (a request id is journaled once: again, it keeps its position)."""
        position = self._commits.submit(_Journal(method, receipt))
        assert position is not None
        return position

    def remember(self, request_id: str, kind: str, now: dt.datetime) -> None:
        """Mark a one-time request (e.g. a correction id) done, outside any grant's quota.

        Raises:
            ReplayError: it was recorded before.
        """
        self._commits.submit(_Answer(_canonical(request_id), kind, None, _stamp(now)))

    def spend(self, grant_id: str, epsilon_milli: int, budget_milli: int) -> int:
        """Spend ``epsilon_milli`` of the grant's budget; return what remains.

        Raises:
            BudgetExhausted: the budget cannot cover it (nothing is spent).
        """
        remaining = self._commits.submit(_Spend(grant_id, epsilon_milli, budget_milli))
        assert remaining is not None
        return remaining

    def _flush(
        self, items: Sequence[_Answer | _Spend | _Journal]
    ) -> list[int | BaseException | None]:
        """One transaction for ``items``, each in its own savepoint; commit (one fsync)."""
        db = self._writer
        outcomes: list[int | BaseException | None] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                db.execute("SAVEPOINT item")
                outcome: int | BaseException | None
                try:
                    outcome = self._apply(db, item)
                except (ReplayError, QuotaError, BudgetExhausted) as refusal:
                    db.execute("ROLLBACK TO item")
                    outcome = refusal
                db.execute("RELEASE item")
                outcomes.append(outcome)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return outcomes

    @staticmethod
    def _apply(db: sqlite3.Connection, item: _Answer | _Spend | _Journal) -> int | None:
        if isinstance(item, _Journal):
            return receipt_journal.journal_receipt(db, item.method, item.receipt)
        if isinstance(item, _Spend):
            row = db.execute(_SPENT, (item.grant_id,)).fetchone()
            spent = (int(row[0]) if row else 0) + item.epsilon_milli
            if spent > item.budget_milli:
                raise BudgetExhausted(item.grant_id)
            db.execute(_SPEND, (item.grant_id, item.epsilon_milli))
            return item.budget_milli - spent
        try:
            db.execute(_ANSWER, (item.request_id, item.grant_id, item.at))
        except sqlite3.IntegrityError:
            raise ReplayError(item.request_id) from None
        if item.quota is not None and not db.execute(_COUNT, (item.grant_id, item.quota)).rowcount:
            if item.quota < 1 or db.execute(_USED, (item.grant_id,)).fetchone() is not None:
                raise QuotaError(item.grant_id)  # the savepoint rolls the request id back too
            db.execute(_FIRST_USE, (item.grant_id,))
        if item.receipt is not None:
            receipt_journal.journal_receipt(db, *item.receipt)
        return None

    def close(self) -> None:
        with self._lock:
            for db in (*self._readers, self._writer):
                db.close()
            self._readers.clear()


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the state file: durable commits, a small page cache of its own.

    Every thread that reads has a connection; SQLite's default cache (2 MiB each) would fill as
    the tables grow, so a node's memory would climb for as long as it answers. Lookups are by
    primary key: the index's upper pages fit in :data:`CACHE_KIB`, and the rest comes from the
    operating system's file cache at the same speed."""
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")  # WAL + FULL: a commit is on disk when it returns
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    return db


def _stamp(now: dt.datetime) -> str:
    """``answered_at`` as the table has always held it: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _canonical(request_id: str) -> str:
    """The one spelling of a request id the table keys on (any case, dashed or not)."""
    try:
        return canonical_request_id(request_id)
    except InvalidArgument:
        return request_id  # never recorded: the engine refuses it before answering
