"""Backing up and restoring the broker's store.

* **SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``) copies the file page by
  page while the broker keeps serving, WAL content included; the restore copies it back the same
  way and every derived table (the catalogue's FTS5 index) comes along exactly.
* **PostgreSQL**: a logical export through SQLAlchemy — every table's rows, in one ``REPEATABLE
  READ READ ONLY`` transaction (one consistent snapshot while the broker serves), as JSON lines.
  Chosen over ``pg_dump``: it needs no client binaries on the broker's host, no matching of
  ``pg_dump``'s major version to the server's, and no translation of SQLAlchemy URLs (with their
  ``search_path`` options) into libpq's; the restore builds the schema with the broker's own
  Alembic migrations up to the backup's revision, loads the rows, then migrates to the latest.

A restore goes only into an empty store (a new SQLite file, or a PostgreSQL schema with no tables),
and only into the kind of database the backup came from.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url

from tongdao.broker.kernel.db import MIGRATIONS_DIR, make_engine
from tongdao.policies.i18n import msg

SQLITE_FILE = "broker.db"
BATCH = 1000


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class StoreManifest:
    """What a store backup holds."""

    kind: str  # "sqlite" or "postgresql"
    revision: str  # the Alembic revision of the backed-up schema
    rows: dict[str, int]  # rows per table

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "revision": self.revision, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreManifest:
        try:
            return cls(str(data["kind"]), str(data["revision"]), dict(data["rows"]))
        except (KeyError, TypeError, ValueError):
            raise BackupError(msg("the backup's store manifest is malformed")) from None


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(
            msg("backups support SQLite and PostgreSQL stores, not {backend}", backend=backend)
        )
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(msg("the SQLite URL names no file"))
    return Path(database)


def _revision(connection: Connection) -> str:
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        raise BackupError(
            msg("the store has no schema (it was never migrated): nothing to back up")
        )
    return current


def _migrate(engine: Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _data_tables(connection: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def _count_rows(connection: Connection) -> dict[str, int]:
    return {
        t.name: int(connection.execute(select(func.count()).select_from(t)).scalar_one())
        for t in _data_tables(connection)
    }


# ---------------------------------------------------------------------------- values as JSON


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict | list):
        return {"$json": value}
    raise BackupError(
        msg("cannot export a value of type {type_name}", type_name=type(value).__name__)
    )


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if "$datetime" in value:
        return dt.datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    if "$json" in value:
        return value["$json"]
    raise BackupError(msg("the backup holds a value it cannot read"))


# ---------------------------------------------------------------------------- backup


def backup_store(url: str, folder: Path) -> StoreManifest:
    """Write a consistent copy of the store at ``url`` into ``folder`` (which must exist)."""
    kind = kind_of(url)
    engine = make_engine(url)
    try:
        if kind == "sqlite":
            return _backup_sqlite(engine, _sqlite_path(url), folder)
        return _backup_logical(engine, folder)
    finally:
        engine.dispose()


def _backup_sqlite(engine: Engine, path: Path, folder: Path) -> StoreManifest:
    if not path.exists():
        raise BackupError(msg("no SQLite store at {path}", path=path))
    target = folder / SQLITE_FILE
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    copied = make_engine(f"sqlite:///{target}")
    try:
        with copied.connect() as connection:
            manifest = StoreManifest("sqlite", _revision(connection), _count_rows(connection))
    finally:
        copied.dispose()
    return manifest


def _backup_logical(engine: Engine, folder: Path) -> StoreManifest:
    rows: dict[str, int] = {}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        connection.execute(text("SET TRANSACTION READ ONLY"))
        revision = _revision(connection)
        for table in _data_tables(connection):
            order = list(table.primary_key.columns) or list(table.columns)
            result = connection.execution_options(yield_per=BATCH).execute(
                select(table).order_by(*order)
            )
            count = 0
            with open(folder / f"{table.name}.jsonl", "w", encoding="utf-8") as out:
                for row in result:
                    data = {key: _encode(value) for key, value in row._mapping.items()}
                    out.write(json.dumps(data, ensure_ascii=False) + "\n")
                    count += 1
            rows[table.name] = count
        connection.rollback()
    return StoreManifest("postgresql", revision, rows)


# ---------------------------------------------------------------------------- restore


def _refuse_unless_empty(url: str, kind: str) -> None:
    if kind == "sqlite":
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(msg("{path} already exists: restore into a new file", path=path))
        if not path.parent.is_dir():
            raise BackupError(msg("{parent} does not exist: create it first", parent=path.parent))
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(
            msg(
                "the database at {v1} already has tables ({v2}…): restore into an empty database "
                "or schema",
                v1=make_url(url).render_as_string(hide_password=True),
                v2=", ".join(sorted(tables)[:3]),
            )
        )


def restore_store(folder: Path, manifest: StoreManifest, url: str) -> dict[str, int]:
    """Restore a backup made by :func:`backup_store` into the empty store at ``url``, then bring
    its schema to the latest migration.

    Returns:
        The rows per table now in the store.
    """
    kind = kind_of(url)
    if kind != manifest.kind:
        raise BackupError(
            msg(
                "this backup holds a {kind} store; restore it into a {kind} URL", kind=manifest.kind
            )
        )
    _refuse_unless_empty(url, kind)
    if kind == "sqlite":
        source = sqlite3.connect(folder / SQLITE_FILE)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        engine = make_engine(url)
    else:
        engine = make_engine(url)
        _migrate(engine, manifest.revision)
        _load_logical(engine, folder)
    try:
        _migrate(engine, "head")
        with engine.connect() as connection:
            return _count_rows(connection)
    finally:
        engine.dispose()


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield {key: _decode(value) for key, value in json.loads(line).items()}


def _load_logical(engine: Engine, folder: Path) -> None:
    with engine.begin() as connection:
        tables = _data_tables(connection)
        for table in reversed(tables):  # rows the migrations seeded (the ledger's empty head)
            connection.execute(table.delete())
        for table in tables:
            batch: list[dict[str, Any]] = []
            for row in _rows(folder / f"{table.name}.jsonl"):
                batch.append(row)
                if len(batch) >= BATCH:
                    connection.execute(table.insert(), batch)
                    batch = []
            if batch:
                connection.execute(table.insert(), batch)
            for column in table.primary_key.columns:
                # explicit ids were inserted: move the id sequence past them
                sequence = connection.execute(
                    text("SELECT pg_get_serial_sequence(:t, :c)"),
                    {"t": table.name, "c": column.name},
                ).scalar_one_or_none()
                if sequence:
                    connection.execute(
                        text(
                            f"SELECT setval('{sequence}', "  # noqa: S608 - name from the catalog
                            f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, "
                            "false)"
                        )
                    )
