"""Database engines and migrations for the broker.

The default store is a SQLite file in the working directory (WAL, zero set-up). Production uses
PostgreSQL by URL (``--database-url`` or ``TONGDAO_DATABASE_URL``). The schema is created and
upgraded by Alembic migrations (``broker/migrations``), never by ``create_all``, so SQLite and
PostgreSQL run exactly the same DDL history.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

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


MIGRATION_LOCK = 0x7467_6D69_6772_6174  # "tgmigrat": the advisory lock migrations take
"""PostgreSQL advisory lock key held while migrating, so any number of brokers may boot at once."""
ROUNDS_LOCK = 0x7467_726F_756E_6473  # "tgrounds": held by the broker running a ledger round
"""PostgreSQL advisory lock key held during a ledger round (reconciliation, checkpoint,
cosignatures, findings), so brokers sharing a store run their rounds one after the other."""
STARTUP_LOCK = 0x7467_7374_6172_7475  # "tgstartu": held by a broker's start-up writes
"""PostgreSQL advisory lock key held while a starting broker re-signs old grant tokens, so
brokers starting together on one store re-sign each grant once."""
_LOCAL_LOCKS: dict[tuple[str, int], threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


@contextmanager
def exclusive(
    engine: Engine, key: int, *, wait_seconds: float, poll_seconds: float = 0.2
) -> Iterator[bool]:
    """Hold a lock named ``key`` across every process using the store, or say it was busy.

    On PostgreSQL a session-level advisory lock on a connection of its own (tried, not waited
    for, so the store's lock timeout does not apply; retried every ``poll_seconds`` for up to
    ``wait_seconds``); elsewhere (SQLite: one broker process per file) a lock per store within
    the process.

    Yields:
        True while held; False when it stayed busy for ``wait_seconds`` (nothing is held).
    """
    deadline = time.monotonic() + wait_seconds
    if engine.dialect.name != "postgresql":
        with _LOCAL_GUARD:
            lock = _LOCAL_LOCKS.setdefault((str(engine.url), key), threading.Lock())
        got = lock.acquire(timeout=max(0.0, wait_seconds))
        try:
            yield got
        finally:
            if got:
                lock.release()
        return
    with engine.connect() as connection:
        got = False
        while True:
            got = bool(
                connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar_one()
            )
            connection.commit()
            if got or time.monotonic() >= deadline:
                break
            time.sleep(poll_seconds)
        try:
            yield got
        finally:
            if got:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
                connection.commit()


IN_CHUNK = 500
"""Values per ``IN (...)`` when a lookup names many rows: the bound parameters of one
statement stay few (SQLite allows 32,766, but a long list also makes a slow statement)."""


def in_chunks(values: Sequence[str], size: int = IN_CHUNK) -> list[Sequence[str]]:
    """``values`` in runs of ``size``, one ``IN`` each."""
    return [values[i : i + size] for i in range(0, len(values), size)]


# connections opened beyond the pool's size for a burst, and closed when returned
POOL_OVERFLOW = 10
SQLITE_CACHE_KIB = 512
"""SQLite's page cache per connection (its default is 2 MiB). A broker keeps a connection per
request thread; at the default, each one's cache fills as the ledger and the catalogue grow and
the broker's memory climbs for as long as it serves. What is not cached comes from the operating
system's file cache."""


def make_engine(
    url: str,
    *,
    statement_timeout_ms: int | None = None,
    lock_timeout_ms: int | None = None,
    pool_size: int = 5,
) -> Engine:
    """Create an engine with the settings Tongdao relies on.

    ``pool_size`` connections stay open (a server passes its thread count and its background
    threads, so no call opens and closes a connection of its own); up to ``POOL_OVERFLOW`` more
    are opened for a burst and closed after it.

    SQLite: WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every
    transaction so that concurrent writers queue instead of failing half-way (the ledger's
    hash chain needs one writer at a time). PostgreSQL: pre-ping for long-lived brokers, and a
    statement and a lock timeout (the rule file's ``[limits]``) so no statement holds the store.
    Errors never carry SQL parameters (request values) into logs or messages.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=POOL_OVERFLOW,
            pool_use_lifo=True,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            # a read-only transaction reads a WAL snapshot and never queues for the write lock
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            # straight to the driver: this runs for every transaction
            conn.connection.driver_connection.execute(
                "BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE"
            )

        return engine
    from sqlalchemy.engine import make_url

    # server settings ride on libpq's startup "options", after any the URL already gives
    given = make_url(url).query.get("options", ())
    options = [given] if isinstance(given, str) else list(given)
    if statement_timeout_ms:
        options.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    if lock_timeout_ms:
        options.append(f"-c lock_timeout={int(lock_timeout_ms)}")
    connect_args = {"options": " ".join(options)} if options else {}
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        pool_use_lifo=True,
        hide_parameters=True,
        connect_args=connect_args,
    )


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent, safe to run from many brokers).

    On PostgreSQL the migration transaction first takes an advisory lock: a second broker
    booting at the same time waits for the first to finish, then finds nothing left to do.
    Migrations are not bound by the statement and lock timeouts (a large store may take long).
    """
    from alembic import command

    config = _alembic_config()
    with _sqlite_migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, hold an exclusive lock on ``<file>-migrate.lock`` while migrating.

    SQLite answers a second connection "database is locked" without waiting when it cannot
    take a lock safely (e.g. while another connection changes the journal mode of a new file),
    so brokers and threads migrating one file at once take turns on an OS file lock first.
    Elsewhere (PostgreSQL: an advisory lock in the transaction; an in-memory SQLite) nothing.
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}-migrate.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current(engine: Engine) -> tuple[str | None, str]:
    """The store's migration and the latest one this version of Tongdao knows.

    Returns:
        (the store's revision, or None for an empty store; the head revision).
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head


def display_url(url: str) -> str:
    """The database URL as it may be shown: the password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show only its scheme
        return url.split(":", 1)[0] + ":…"


def store_problem(url: str, exc: Exception) -> str:
    """One line naming the store (no password), what went wrong and what to check."""
    from sqlalchemy.engine import make_url

    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    reason = lines[0] if lines else type(orig).__name__
    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    from tongdao.policies.i18n import msg

    return msg(
        "cannot use the store at {url}: {reason} (check --database-url or {env}, that the "
        "database server is running and that this user may connect)",
        url=display_url(url),
        reason=reason,
        env=ENV_DATABASE_URL,
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (servicers read them to build replies)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def read_only(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads alone: on SQLite it does not take the write lock (``BEGIN
    DEFERRED`` on a WAL snapshot), so checks run beside writers; it is rolled back at the end,
    so nothing it might change is kept.

    Inside :func:`handing_on_read` of the same ``sessions``, the first ``read_only`` takes over
    the read session opened there (and ends it), instead of opening one of its own."""
    handed = _HANDED_ON.get()
    if handed is not None and handed.sessions is sessions and not handed.taken:
        handed.taken = True
        try:
            yield handed.session
        finally:
            _end_read(handed.session)
        return
    session = _begin_read(sessions)
    try:
        yield session
    finally:
        _end_read(session)


def _begin_read(sessions: sessionmaker[Session]) -> Session:
    """A new session in a read-only transaction (on SQLite ``BEGIN DEFERRED``)."""
    session = sessions()
    try:
        session.connection(execution_options={READ_ONLY: True})
    except BaseException:
        session.close()
        raise
    return session


def _end_read(session: Session) -> None:
    """Roll the read back (nothing it might change is kept) and return its connection."""
    session.rollback()
    session.close()


@dataclass
class _HandedOn:
    sessions: sessionmaker[Session]
    session: Session
    taken: bool = False


_HANDED_ON: ContextVar[_HandedOn | None] = ContextVar("tongdao_handed_on_read", default=None)


@contextmanager
def handing_on_read(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A :func:`read_only` session whose reads the block's first ``read_only`` of the same
    ``sessions`` goes on with: a call's checks before its handler (who is calling, in what
    role) and the handler's own first reads are one read transaction, not two. The session
    ends when that ``read_only`` ends, or with the block if none took it."""
    session = _begin_read(sessions)
    handed = _HandedOn(sessions, session)
    token = _HANDED_ON.set(handed)
    try:
        yield session
    finally:
        _HANDED_ON.reset(token)
        if not handed.taken:
            handed.taken = True
            _end_read(session)
