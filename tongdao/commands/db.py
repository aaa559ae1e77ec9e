"""``tongdao db``: the broker's store — bring its schema up to date, or show where it stands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tongdao.broker.kernel.db import (
    DEFAULT_SQLITE_FILE,
    ENV_DATABASE_URL,
    current,
    display_url,
    make_engine,
    resolve_database_url,
    store_problem,
    upgrade,
)
from tongdao.cli import CommandError
from tongdao.commands._grammar import add_json_argument
from tongdao.i18n import tr
from tongdao.policies.i18n import msg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("db", help="migrate the broker's store or show its schema version")
    dsub = parser.add_subparsers(dest="db_command", metavar="COMMAND")
    dsub.required = True
    url_help = (
        f"SQLAlchemy URL (env {ENV_DATABASE_URL}; default the SQLite file "
        f"./{DEFAULT_SQLITE_FILE}, as `tongdao broker serve` uses)"
    )
    up = dsub.add_parser(
        "upgrade",
        help="apply every migration the store lacks (safe while other brokers boot)",
        description=(
            "Bring the store's schema to the latest migration. `tongdao broker serve` does this "
            "at start; run it alone to migrate ahead of a release. On PostgreSQL the migration "
            "holds an advisory lock, so several brokers or upgrades may run at once."
        ),
    )
    up.add_argument("--database-url", default=None, help=url_help)
    add_json_argument(up, lines=True)
    up.set_defaults(handler=upgrade_command)
    cur = dsub.add_parser(
        "current",
        help="print the store's migration and the latest one this version knows",
        description="Read-only: an empty or missing store is reported, never created.",
    )
    cur.add_argument("--database-url", default=None, help=url_help)
    add_json_argument(cur)
    cur.set_defaults(handler=current_command)


def _url(args: argparse.Namespace) -> str:
    return resolve_database_url(args.database_url)


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database)


def upgrade_command(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    url = _url(args)
    path = _sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise CommandError(
            msg("no directory {parent} for the store {v3}", parent=path.parent, v3=display_url(url))
        )
    try:
        engine = make_engine(url)
        upgrade(engine)
        revision, head = current(engine)
    except SQLAlchemyError as exc:
        raise CommandError(store_problem(url, exc)) from None
    print(
        tr(
            "store {url} is at migration {revision} (latest {head})",
            url=display_url(url),
            revision=revision,
            head=head,
        )
    )
    return 0


def current_command(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    url = _url(args)
    path = _sqlite_path(url)
    if path is not None and not path.is_file():
        raise CommandError(
            msg(
                "no store at {path} (run `tongdao db upgrade` or `tongdao "
                "broker serve` in the broker's directory, or give "
                "--database-url)",
                path=path,
            )
        )
    try:
        revision, head = current(make_engine(url))
    except SQLAlchemyError as exc:
        raise CommandError(store_problem(url, exc)) from None
    if args.json:
        data = {"store": display_url(url), "revision": revision, "latest": head}
        print(json.dumps({**data, "up_to_date": revision == head}))
        return 0 if revision == head else 1
    if revision is None:
        print(
            tr(
                "store {url} has no schema yet (latest {head}: run `tongdao db upgrade`)",
                url=display_url(url),
                head=head,
            )
        )
        return 1
    if revision == head:
        state = tr("up to date")
    else:
        state = tr("behind: run `tongdao db upgrade` ({head})", head=head)
    shown = display_url(url)
    print(
        tr(
            "store {url} is at migration {revision}, {state}",
            url=shown,
            revision=revision,
            state=state,
        )
    )
    return 0 if revision == head else 1
