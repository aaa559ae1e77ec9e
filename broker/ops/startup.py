"""Database problems at the broker's start, told in one line: the URL (password removed), what
went wrong and how to fix it — never a traceback."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from tongdao.policies.i18n import Text, msg


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


def explain(url: str, exc: BaseException) -> Text:
    """The one line for a failure to open or migrate the store at ``url`` (in its reader's
    language: :func:`tongdao.policies.i18n.render`)."""
    where, reason = redacted(url), _reason(exc)
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return msg(
            "cannot open the broker's store: {where} is not a database URL this broker knows "
            "({reason}); use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB — give "
            "--database-url, the config file's database-url or TONGDAO_DATABASE_URL",
            where=where,
            reason=reason,
        )
    if url.startswith("sqlite"):
        return msg(
            "cannot open the broker's store at {where}: {reason} — the file's folder must exist "
            "and be writable by the broker's user, or give --database-url, the config file's "
            "database-url or TONGDAO_DATABASE_URL",
            where=where,
            reason=reason,
        )
    if isinstance(exc, OperationalError):
        return msg(
            "cannot reach the broker's store at {where}: {reason} — start the database server or "
            "check the host, port, user and database name, or give --database-url, the config "
            "file's database-url or TONGDAO_DATABASE_URL",
            where=where,
            reason=reason,
        )
    return msg(
        "cannot prepare the broker's store at {where}: {reason} — give --database-url, the "
        "config file's database-url or TONGDAO_DATABASE_URL",
        where=where,
        reason=reason,
    )


STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
"""Exceptions that mean the store could not be opened or migrated."""
