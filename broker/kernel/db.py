"""Database engines and migrations for the broker.

The default store is a SQLite file in the working directory (WAL, zero set-up). Production uses
PostgreSQL by URL (``--database-url`` or ``TONGDAO_DATABASE_URL``). The schema is created and
upgraded by Alembic migrations (``broker/migrations``), never by ``create_all``, so SQLite and
PostgreSQL run exactly the same DDL history.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "tongdao-broker.db"
ENV_DATABASE_URL = "TONGDAO_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
READ_ONLY = "tongdao_read_only"


def resolve_database_url(url: str | None = None, *, directory: Path | None = None) -> str:
    """Pick the database URL: explicit argument, then the environment, then a local SQLite file."""
    if url:
        return url
    env = os.environ.get(ENV_DATABASE_URL)
    if env:
        return env
    base = directory or Path.cwd()
    return f"sqlite:///{base / DEFAULT_SQLITE_FILE}"


def make_engine(url: str) -> Engine:
    """Create an engine with the settings Tongdao relies on.

    SQLite: WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every
    transaction so that concurrent writers queue instead of failing half-way (the ledger's
    hash chain needs one writer at a time). PostgreSQL: pre-ping for long-lived brokers.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            # a read-only transaction reads a WAL snapshot and never queues for the write lock
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (servicers read them to build replies)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def read_only(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads alone: on SQLite it does not take the write lock (``BEGIN
    DEFERRED`` on a WAL snapshot), so checks run beside writers; it is rolled back at the end,
    so nothing it might change is kept."""
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
        finally:
            session.rollback()
