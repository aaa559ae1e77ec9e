"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), homes, clocks."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

# the command's own text follows the environment's language (default zh-CN); the suite reads
# English unless a test asks for another locale (--locale, or TONGDAO_LOCALE in its env)
os.environ["TONGDAO_LOCALE"] = "en"

PG_URL = os.environ.get("TONGDAO_TEST_PG_URL", "")
_pg_reason: str | None = None


def postgres_unavailable_reason() -> str | None:
    """Why the PostgreSQL tests are skipped, or None if the server answers."""
    global _pg_reason
    if _pg_reason is not None:
        return _pg_reason or None
    if not PG_URL:
        _pg_reason = "TONGDAO_TEST_PG_URL is not set (.ci/run sets it to the local PostgreSQL)"
        return _pg_reason
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        _pg_reason = ""
        return None
    except Exception as exc:  # any connection failure means "skip, and say why"
        _pg_reason = f"PostgreSQL at TONGDAO_TEST_PG_URL is not reachable: {type(exc).__name__}"
        return _pg_reason


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a private schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'broker.db'}"
        return
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with private_pg_schema() as url:
        yield url


@contextlib.contextmanager
def private_pg_schema() -> Iterator[str]:
    """A URL of a fresh schema of its own on the PostgreSQL at TONGDAO_TEST_PG_URL, dropped
    afterwards (call only when :func:`postgres_unavailable_reason` is None)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
