"""Database problems at the broker's start, told in one line: the URL (password removed), what
went wrong and how to fix it — never a traceback."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

FIX_URL = "give --database-url, the config file's database-url or TONGDAO_DATABASE_URL"


class StoreUnavailable(RuntimeError):
    """The broker's store cannot be opened or migrated; the message is the one line to show."""


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (unparseable URLs are cut at the scheme)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://…"


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__


def explain(url: str, exc: BaseException) -> str:
    """The one line for a failure to open or migrate the store at ``url``."""
    where = redacted(url)
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return (
            f"cannot open the broker's store: {where} is not a database URL this broker knows "
            f"({_reason(exc)}); use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB — {FIX_URL}"
        )
    if url.startswith("sqlite"):
        return (
            f"cannot open the broker's store at {where}: {_reason(exc)} — the file's folder must "
            f"exist and be writable by the broker's user, or {FIX_URL}"
        )
    if isinstance(exc, OperationalError):
        return (
            f"cannot reach the broker's store at {where}: {_reason(exc)} — start the database "
            f"server or check the host, port, user and database name, or {FIX_URL}"
        )
    return f"cannot prepare the broker's store at {where}: {_reason(exc)} — {FIX_URL}"


STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
"""Exceptions that mean the store could not be opened or migrated."""
