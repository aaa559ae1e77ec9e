"""Data sources a node serves catalogue entries from: a CSV file or any SQLAlchemy URL + table."""

from __future__ import annotations

import csv
import os
import tempfile
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, MetaData, Table, create_engine, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tongdao.policies.i18n import msg


class SourceError(Exception):
    """A data source cannot be opened or lacks a configured column."""


class CorrectionRefused(Exception):
    """A correction the source cannot apply; the message says why (never a value)."""


def normalise_key(value: str, *, casefold: bool = False) -> str:
    """The form keys are compared in: NFKC (full-width → ASCII), trimmed, optionally case-folded.

    ID numbers end in a check character that may be ``x`` or ``X``; entries with such keys set
    ``casefold = true`` so both match.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    return text.casefold() if casefold else text


class DataSource(Protocol):
    """What the query engines need from a source."""

    @property
    def columns(self) -> Sequence[str]:
        """Column names, in source order."""
        ...

    def lookup(self, key: str) -> dict[str, str] | None:
        """The record whose key field equals ``key`` (already normalised), or None."""
        ...

    def count(self) -> int:
        """Number of records."""
        ...

    def rows(self) -> Iterator[dict[str, str]]:
        """Every record (streamed where the source allows)."""
        ...

    def project(self, names: Sequence[str]) -> Iterator[tuple[str, ...]]:
        """Every record's values of ``names`` only, in that order ("" for NULL): the scan the
        aggregate and intersection engines make over 10⁶ rows, without a dict per row."""
        ...

    def correct(self, key: str, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """Set ``values`` on the record ``key`` (normalised); return it before and after.

        Raises:
            CorrectionRefused: no such record, or the source refuses the write.
        """
        ...


class CsvSource:
    """A UTF-8 CSV file with a header row, indexed in memory by the key field at start-up.

    Every row must have a key, unique after :func:`normalise_key`; otherwise the file is refused
    with the line numbers at fault.
    """

    def __init__(
        self, path: Path, key_field: str, *, casefold: bool = False, read_only: bool = False
    ) -> None:
        self.path = path
        self.casefold = casefold
        self.key_field = key_field
        self.read_only = read_only
        self._write_lock = threading.Lock()
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                self.columns = list(reader.fieldnames or [])
                if key_field not in self.columns:
                    raise SourceError(
                        msg(
                            "{path}: no column {key_field!r} (columns: {columns})",
                            path=str(path),
                            key_field=key_field,
                            columns=", ".join(self.columns),
                        )
                    )
                self._rows: dict[str, dict[str, str]] = {}
                first_line: dict[str, int] = {}
                for row in reader:
                    # a missing or repeated key would make lookups pick one record silently and
                    # drop the others from aggregates; refuse the file (lines only, no values)
                    key = normalise_key(row[key_field] or "", casefold=casefold)
                    line = reader.line_num
                    if not key:
                        raise SourceError(
                            msg(
                                "{path}: line {line} has an empty {key_field!r}",
                                path=str(path),
                                line=line,
                                key_field=key_field,
                            )
                        )
                    if key in first_line:
                        raise SourceError(
                            msg(
                                "{path}: line {line} repeats the {key_field!r} of line {first} "
                                "(keys must be unique after normalisation)",
                                path=str(path),
                                line=line,
                                key_field=key_field,
                                first=first_line[key],
                            )
                        )
                    first_line[key] = line
                    self._rows[key] = {k: (v or "") for k, v in row.items() if k is not None}
        except FileNotFoundError:
            raise SourceError(msg("{path}: no such file", path=str(path))) from None
        except UnicodeDecodeError:
            raise SourceError(msg("{path}: not UTF-8 text", path=str(path))) from None

    def lookup(self, key: str) -> dict[str, str] | None:
        return self._rows.get(key)

    def count(self) -> int:
        return len(self._rows)

    def rows(self) -> Iterator[dict[str, str]]:
        return iter(self._rows.values())

    def project(self, names: Sequence[str]) -> Iterator[tuple[str, ...]]:
        for row in self._rows.values():
            yield tuple(row.get(n, "") for n in names)

    def correct(self, key: str, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """Rewrite the file atomically (a sibling temporary file, fsynced, then renamed over it),
        then the in-memory index; a failed write leaves both as they were."""
        if self.read_only:
            raise CorrectionRefused("the source is read-only")
        with self._write_lock:
            before = self._rows.get(key)
            if before is None:
                raise CorrectionRefused("no record with that key")
            after = {**before, **values}
            rows = dict(self._rows)
            rows[key] = after
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            except OSError:
                raise CorrectionRefused("the source is read-only") from None
            try:
                with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
                    writer = csv.DictWriter(out, fieldnames=self.columns)
                    writer.writeheader()
                    writer.writerows(rows.values())
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, self.path.stat().st_mode & 0o777)
                os.replace(tmp, self.path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)
                raise CorrectionRefused("the source file could not be rewritten") from None
            self._rows = rows
            return dict(before), dict(after)


class SqlSource:
    """A table reached through any SQLAlchemy URL; each lookup is one parameterised SELECT.

    The key is normalised (:func:`normalise_key`) on our side only: stored values are compared
    as they are (with ``casefold``, through SQL ``lower()``), so keep them trimmed and in
    half-width form, as a registry's identifiers normally are.
    """

    def __init__(
        self,
        url: str,
        table: str,
        key_field: str,
        *,
        casefold: bool = False,
        read_only: bool = False,
    ) -> None:
        self.casefold = casefold
        self.read_only = read_only
        try:
            parsed = make_url(url)
            database = parsed.database or ""
            sqlite_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            if sqlite_file and not Path(database).is_file():  # connecting would create it, empty
                raise SourceError(msg("no SQLite database at {database}", database=database))
            # record values (query keys) never reach error messages or logs
            self.engine: Engine = create_engine(url, hide_parameters=True)
            self.table = Table(table, MetaData(), autoload_with=self.engine)
        except SourceError:
            raise
        except Exception as exc:  # driver errors vary; report the cause without the URL's password
            raise SourceError(
                msg(
                    "cannot open table {table!r}: {reason}",
                    table=table,
                    reason=f"{type(exc).__name__}: {exc}",
                )
            ) from None
        self.columns = [c.name for c in self.table.columns]
        if key_field not in self.columns:
            raise SourceError(
                msg("table {table!r} has no column {key_field!r}", table=table, key_field=key_field)
            )
        self.key_column = self.table.c[key_field]

    def lookup(self, key: str) -> dict[str, str] | None:
        column = func.lower(self.key_column) if self.casefold else self.key_column
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(column == key).limit(1)).mappings().first()
        if row is None:
            return None
        return {k: "" if v is None else str(v) for k, v in row.items()}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())

    def rows(self) -> Iterator[dict[str, str]]:
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(
                select(self.table)
            )
            for row in result.mappings():
                yield {k: "" if v is None else str(v) for k, v in row.items()}

    def correct(self, key: str, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """One UPDATE of that record in one transaction, read before and after inside it."""
        if self.read_only:
            raise CorrectionRefused("the source is read-only")
        column = func.lower(self.key_column) if self.casefold else self.key_column
        where = column == key
        try:
            with self.engine.begin() as conn:
                rows = conn.execute(select(self.table).where(where).limit(2)).mappings().all()
                if not rows:
                    raise CorrectionRefused("no record with that key")
                if len(rows) > 1:
                    raise CorrectionRefused("more than one record has that key")
                conn.execute(update(self.table).where(where).values(**values))
                after = conn.execute(select(self.table).where(where)).mappings().one()
        except CorrectionRefused:
            raise
        except SQLAlchemyError as exc:  # read-only database, a type the column refuses, ...
            text = str(getattr(exc, "orig", exc)).lower()
            if "readonly" in text or "read-only" in text or "read only" in text:
                raise CorrectionRefused("the source is read-only") from None
            raise CorrectionRefused(
                f"the source refused the update ({type(getattr(exc, 'orig', exc)).__name__})"
            ) from None

        def _text(row: object) -> dict[str, str]:
            return {k: "" if v is None else str(v) for k, v in dict(row).items()}  # type: ignore[call-overload]

        return _text(rows[0]), _text(after)

    def project(self, names: Sequence[str]) -> Iterator[tuple[str, ...]]:
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            raise KeyError(unknown[0])
        columns = [self.table.c[n] for n in names]
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=20000).execute(
                select(*columns)
            )
            for row in result:
                yield tuple("" if v is None else v if isinstance(v, str) else str(v) for v in row)


def open_source(
    spec: str, key_field: str, *, base: Path, casefold: bool = False, read_only: bool = False
) -> DataSource:
    """Open ``csv:PATH`` (relative to ``base``) or ``sql:URL#TABLE``; ``read_only``: corrections
    are refused (the node never writes to it).

    Raises:
        SourceError: unknown scheme or the source cannot be opened.
    """
    if spec.startswith("csv:"):
        path = Path(spec[4:])
        return CsvSource(
            path if path.is_absolute() else base / path,
            key_field,
            casefold=casefold,
            read_only=read_only,
        )
    if spec.startswith("sql:"):
        url, sep, table = spec[4:].rpartition("#")
        if not sep or not url or not table:
            raise SourceError(msg("{spec!r}: expected sql:<sqlalchemy url>#<table>", spec=spec))
        return SqlSource(url, table, key_field, casefold=casefold, read_only=read_only)
    raise SourceError(msg("{spec!r}: source must start with csv: or sql:", spec=spec))
