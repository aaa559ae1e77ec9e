"""The node's own small store: request ids already answered (replay refusal) and per-grant use.

It lives in the node's state directory (SQLite), so a restart does not reset replay protection
or quotas. It is a node-local cache of two tables, created on first use.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import DateTime, Integer, String, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from tongdao.proto.errors import InvalidArgument
from tongdao.proto.query import canonical_request_id


class _Base(DeclarativeBase):
    pass


class AnsweredRequest(_Base):
    """A request id the node has answered."""

    __tablename__ = "answered_requests"
    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(36), index=True)
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class GrantUse(_Base):
    """How many queries the node has answered under a grant."""

    __tablename__ = "grant_use"
    grant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class DpSpend(_Base):
    """Differential-privacy budget spent under a grant, in thousandths of epsilon."""

    __tablename__ = "dp_spent"
    grant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    spent_milli: Mapped[int] = mapped_column(Integer)


class BudgetExhausted(Exception):
    """The grant's differential-privacy budget cannot pay for another query."""


class ReplayError(Exception):
    """The request id was answered before."""


class QuotaError(Exception):
    """The grant's quota is used up."""


class NodeState:
    """Replay and quota bookkeeping, safe across threads and restarts."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(
            f"sqlite:///{directory / 'node-state.db'}",
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,  # request ids and grant ids stay out of error messages
        )

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        _Base.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine)

    def seen(self, request_id: str) -> bool:
        """Whether ``request_id`` was answered already (in any spelling of the same UUID)."""
        with self.sessions() as session:
            return session.get(AnsweredRequest, _canonical(request_id)) is not None

    def used(self, grant_id: str) -> int:
        """Queries answered under ``grant_id``."""
        with self.sessions() as session:
            row = session.get(GrantUse, grant_id)
            return row.used if row else 0

    def record(self, request_id: str, grant_id: str, quota: int, now: dt.datetime) -> None:
        """Atomically mark the request answered and count one use against the quota.

        Raises:
            ReplayError: the request id was recorded before (also under a race).
            QuotaError: the grant has no queries left.
        """
        try:
            with self.sessions.begin() as session:
                _record(session, _canonical(request_id), grant_id, quota, now)
        except IntegrityError:
            raise ReplayError(request_id) from None

    def spend(self, grant_id: str, epsilon_milli: int, budget_milli: int) -> int:
        """Spend ``epsilon_milli`` of the grant's budget; return what remains.

        Raises:
            BudgetExhausted: the budget cannot cover it (nothing is spent).
        """
        with self.sessions.begin() as session:
            row = session.get(DpSpend, grant_id)
            if row is None:
                row = DpSpend(grant_id=grant_id, spent_milli=0)
                session.add(row)
            if row.spent_milli + epsilon_milli > budget_milli:
                raise BudgetExhausted(grant_id)
            row.spent_milli += epsilon_milli
            return budget_milli - row.spent_milli

    def close(self) -> None:
        self.engine.dispose()


def _canonical(request_id: str) -> str:
    """The one spelling of a request id the table keys on (any case, dashed or not)."""
    try:
        return canonical_request_id(request_id)
    except InvalidArgument:
        return request_id  # never recorded: the engine refuses it before answering


def _record(session: Session, request_id: str, grant_id: str, quota: int, now: dt.datetime) -> None:
    if session.get(AnsweredRequest, request_id) is not None:
        raise ReplayError(request_id)
    use = session.execute(
        select(GrantUse).where(GrantUse.grant_id == grant_id)
    ).scalar_one_or_none()
    if use is None:
        use = GrantUse(grant_id=grant_id, used=0)
        session.add(use)
    if use.used >= quota:
        raise QuotaError(grant_id)
    use.used += 1
    session.add(AnsweredRequest(request_id=request_id, grant_id=grant_id, answered_at=now))
