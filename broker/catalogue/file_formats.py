"""Bulk catalogue files: CSV, JSON and XLSX in, the same formats out.

CSV and XLSX hold **one row per data item** — the layout departments keep their catalogues in —
with the entry's columns repeated (or left blank) on the item rows of the same entry code.
Headers may be the English column names below or their Chinese equivalents (信息资源代码, …).
JSON holds a list of entries (or ``{"entries": [...]}``) shaped like ``tongdao catalogue
create`` files. Lists in a cell are separated by ``;``, ``；`` or ``、``.

Parsing never stops at the first problem (up to the rule file's limit on problems): every
problem is reported with its line (CSV/XLSX: the spreadsheet row, header = 1; JSON: the entry's
position, 1-based), column and reason. Reading is bounded by the rule file's ``[limits]``: file
size, unpacked workbook size, rows, characters per cell; a workbook's stated dimensions are
ignored; NUL and control characters are refused; nothing a hostile file holds raises.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tongdao.policies.model import Policy

FORMATS = ("csv", "json", "xlsx")

ENTRY_COLUMNS = (
    "code", "name", "description", "provider", "key_field", "data_format", "update_frequency",
    "share_type", "share_scope_departments", "share_scope_levels", "share_scope_regions",
    "permitted_purposes", "legal_basis", "open_type", "open_conditions", "classification",
    "grade", "aggregation_mode", "tags", "subject_consent", "contains_trade_secret",
)  # fmt: skip
ITEM_COLUMNS = (
    "item_name", "item_type", "item_description", "item_sensitivity", "item_classification",
)  # fmt: skip
COLUMNS = ENTRY_COLUMNS + ITEM_COLUMNS
LIST_COLUMNS = {
    "share_scope_departments", "share_scope_levels", "share_scope_regions",
    "permitted_purposes", "tags",
}  # fmt: skip
BOOL_COLUMNS = {"subject_consent", "contains_trade_secret"}

CHINESE_HEADERS = {
    "信息资源代码": "code",
    "信息资源名称": "name",
    "信息资源摘要": "description",
    "提供方代码": "provider",
    "关键字段": "key_field",
    "数据格式": "data_format",
    "更新周期": "update_frequency",
    "共享类型": "share_type",
    "共享范围部门": "share_scope_departments",
    "共享范围层级": "share_scope_levels",
    "共享范围区域": "share_scope_regions",
    "允许用途": "permitted_purposes",
    "不予共享依据": "legal_basis",
    "开放类型": "open_type",
    "开放条件": "open_conditions",
    "分类": "classification",
    "分级": "grade",
    "汇聚方式": "aggregation_mode",
    "标签": "tags",
    "主体同意": "subject_consent",
    "含商业秘密": "contains_trade_secret",
    "信息项名称": "item_name",
    "数据类型": "item_type",
    "信息项描述": "item_description",
    "敏感级别": "item_sensitivity",
    "信息项分类": "item_classification",
}
VALUE_ALIASES = {
    "share_type": {
        "无条件共享": "unconditional",
        "有条件共享": "conditional",
        "不予共享": "not_shared",
    },
    "open_type": {
        "不予开放": "not_open",
        "有条件开放": "conditional_open",
        "无条件开放": "unconditional_open",
    },
    "aggregation_mode": {"逻辑汇聚": "logical", "物理汇聚": "physical"},
}
TRUE = {"true", "yes", "1", "是", "y"}
FALSE = {"false", "no", "0", "否", "n", ""}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""NUL and control characters (tab, line feed and carriage return are text)."""
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet cell starting with one of these is a formula (OWASP CSV injection)."""
CHECK_EVERY = 1000
"""Rows between two looks at the caller's deadline."""


@dataclass(frozen=True)
class ImportLimits:
    """How much of a catalogue file the broker reads (``[limits]`` of the rule file)."""

    max_file_bytes: int
    max_unpacked_bytes: int
    max_rows: int
    max_cell_chars: int
    max_problems: int

    @classmethod
    def from_policy(cls, policy: Policy) -> ImportLimits:
        """The import limits of a loaded rule file."""
        limits = policy.limits
        return cls(
            limits["import_max_file_bytes"],
            limits["import_max_unpacked_bytes"],
            limits["import_max_rows"],
            limits["import_max_cell_chars"],
            limits["import_max_problems"],
        )

    @classmethod
    def default(cls) -> ImportLimits:
        """The limits of the bundled default rule file."""
        from tongdao.policies.loader import load_policy

        return cls.from_policy(load_policy())


class ImportCancelled(Exception):
    """The caller's deadline passed (or the caller went away) while the file was being read."""


@dataclass(frozen=True)
class ImportProblem:
    """One problem of an import file: where it is and what is wrong."""

    line: int
    column: str
    problem: str


@dataclass
class ParsedEntry:
    """An entry read from a file, with where it came from (for the error report)."""

    entry: dict[str, Any]
    line: int
    item_lines: dict[str, int] = field(default_factory=dict)


def _split(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;；、]", value) if p.strip()]


class _Stop(Exception):
    """Reading stops here: a limit was reached (the problem saying so is already reported)."""


@dataclass
class _Reading:
    """One file being read: its limits, the problems found so far, the caller's deadline."""

    limits: ImportLimits
    expired: Callable[[], bool] | None
    problems: list[ImportProblem] = field(default_factory=list)
    rows: int = 0

    def report(self, line: int, column: str, problem: str) -> None:
        self.problems.append(ImportProblem(line, column, problem))
        if len(self.problems) >= self.limits.max_problems:
            self.problems.append(
                ImportProblem(line, "", f"more than {self.limits.max_problems} problems: stopped")
            )
            raise _Stop

    def row(self, line: int) -> None:
        """Count one row (or JSON data item); stop past the row limit or the deadline."""
        self.rows += 1
        if self.rows > self.limits.max_rows or line > self.limits.max_rows:
            self.report(line, "", f"more than {self.limits.max_rows} rows: reading stopped here")
            raise _Stop
        if self.expired is not None and self.rows % CHECK_EVERY == 0 and self.expired():
            raise ImportCancelled

    def text(self, line: int, column: str, value: str) -> str:
        """A cell's text, or "" (with a problem reported) when too long or holding NUL/controls."""
        if len(value) > self.limits.max_cell_chars:
            self.report(line, column, f"is longer than {self.limits.max_cell_chars} characters")
            return ""
        if CONTROL.search(value):
            self.report(line, column, "holds a NUL or control character")
            return ""
        return value


def _unquote(value: str) -> str:
    """Undo the export's formula neutralisation: ``'=x`` reads back as ``=x``."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_LEAD:
        return value[1:]
    return value


def _cell(column: str, raw: Any, line: int, reading: _Reading) -> Any:
    value = _unquote(reading.text(line, column, "" if raw is None else str(raw).strip()))
    if column in LIST_COLUMNS:
        return _split(value)
    if column in BOOL_COLUMNS:
        low = value.lower()
        if low in TRUE:
            return True
        if low not in FALSE:
            reading.report(line, column, f"{value!r} is not yes/no")
        return False
    return VALUE_ALIASES.get(column, {}).get(value, value)


def _header(raw: Sequence[Any], reading: _Reading) -> list[str]:
    out = []
    for n, name in enumerate(raw, start=1):
        text = reading.text(1, f"column {n}", "" if name is None else str(name).strip())
        text = text.lstrip("\ufeff")
        column = CHINESE_HEADERS.get(text, text)
        if column and column not in COLUMNS:
            reading.report(1, text, f"unknown column (column {n})")
        out.append(column)
    for required in ("code", "item_name"):
        if required not in out:
            reading.report(1, required, "required column is missing")
    return out


def _rows_to_entries(
    rows: Iterable[tuple[int, Sequence[Any]]], header: list[str], reading: _Reading
) -> list[ParsedEntry]:
    entries: dict[str, ParsedEntry] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, raw in rows:
        reading.row(line)
        if not any(c not in (None, "") for c in raw):
            continue  # blank row
        cells = {
            col: _cell(col, raw[i] if i < len(raw) else None, line, reading)
            for i, col in enumerate(header)
            if col
        }
        code = cells.get("code", "")
        if not code:
            reading.report(line, "code", "must not be empty")
            continue
        parsed = entries.get(code)
        if parsed is None:
            entry = {c: cells.get(c, [] if c in LIST_COLUMNS else "") for c in ENTRY_COLUMNS}
            for c in BOOL_COLUMNS:
                entry[c] = bool(cells.get(c, False))
            entry["data_items"] = []
            parsed = entries[code] = ParsedEntry(entry, line)
            for c in ENTRY_COLUMNS:
                first_line[(code, c)] = line
        else:
            for c in ENTRY_COLUMNS:
                value = cells.get(c)
                if value in (None, "", [], False):
                    continue
                if parsed.entry[c] in ("", [], False):
                    parsed.entry[c] = value
                    first_line[(code, c)] = line
                elif parsed.entry[c] != value:
                    reading.report(
                        line, c, f"differs from line {first_line[(code, c)]} of entry {code}"
                    )
        item = {
            "name": cells.get("item_name", ""),
            "type": cells.get("item_type", "") or "string",
            "description": cells.get("item_description", ""),
            "sensitivity": cells.get("item_sensitivity", "") or "general",
            "classification": cells.get("item_classification", ""),
        }
        if not item["name"]:
            reading.report(line, "item_name", "must not be empty")
            continue
        if item["name"] in parsed.item_lines:
            reading.report(
                line,
                "item_name",
                f"{item['name']!r} is already on line {parsed.item_lines[item['name']]}",
            )
            continue
        parsed.item_lines[item["name"]] = line
        parsed.entry["data_items"].append(item)
    return list(entries.values())


def _parse_csv(content: bytes, reading: _Reading) -> list[ParsedEntry]:
    # the csv module's own cell limit (131,072) would fail without naming the column: ours, from
    # the rule file, is checked per cell instead; a cell can never exceed the file
    if csv.field_size_limit() < reading.limits.max_file_bytes:
        csv.field_size_limit(reading.limits.max_file_bytes)
    # decoded as it is read (no second copy of the file); spreadsheets saved as CSV on Chinese
    # Windows are GB18030, so a file that is not UTF-8 is read again as that
    for encoding in ("utf-8-sig", "gb18030"):
        attempt = _Reading(reading.limits, reading.expired)
        text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        reader = csv.reader(text)
        try:
            try:
                header = _header(next(reader), attempt)
            except StopIteration:
                attempt.report(1, "", "file is empty")
                entries: list[ParsedEntry] = []
            else:
                rows = ((reader.line_num, row) for row in reader)
                entries = _rows_to_entries(rows, header, attempt)
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:
            attempt.problems.append(ImportProblem(reader.line_num, "", f"not CSV: {exc}"))
            entries = []
        except _Stop:
            entries = []
        reading.problems.extend(attempt.problems)
        reading.rows = attempt.rows
        return entries
    reading.report(1, "", "file is neither UTF-8 nor GB18030 text")
    return []


def _parse_xlsx(content: bytes, reading: _Reading) -> list[ParsedEntry]:
    from zipfile import BadZipFile, ZipFile

    import openpyxl

    try:
        with ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (BadZipFile, OSError, ValueError, EOFError) as exc:
        reading.report(1, "", f"not an XLSX workbook ({type(exc).__name__})")
        return []
    if unpacked > reading.limits.max_unpacked_bytes:
        reading.report(
            1, "", f"the workbook unpacks to more than {reading.limits.max_unpacked_bytes} bytes"
        )
        return []
    try:
        # XML is read through defusedxml (openpyxl uses it when installed): DTDs with entities
        # and external references are refused, not expanded
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # a hostile workbook may fail anywhere in the reader
        cause = type(exc.__cause__ or exc).__name__  # openpyxl wraps the XML parser's error
        reading.report(1, "", f"not a readable XLSX workbook ({cause})")
        return []
    line = 1
    try:
        if not book.worksheets:
            reading.report(1, "", "the workbook has no sheets")
            return []
        sheet = book.worksheets[0]
        # the sheet's <dimension> is not trusted: without it rows come as they are stored, each
        # as wide as its last cell, and reading stops at the row limit
        sheet.reset_dimensions()  # type: ignore[union-attr]
        rows = sheet.iter_rows(values_only=True)
        try:
            header = _header(list(next(rows)), reading)
        except StopIteration:
            reading.report(1, "", "the first sheet is empty")
            return []

        def numbered() -> Iterator[tuple[int, list[Any]]]:
            nonlocal line
            for line, row in enumerate(rows, start=2):
                yield line, list(row)

        return _rows_to_entries(numbered(), header, reading)
    except (_Stop, ImportCancelled):
        raise
    except Exception as exc:  # damaged XML or compressed data in the sheet
        reading.report(line, "", f"the workbook is damaged at row {line} ({type(exc).__name__})")
        return []
    finally:
        book.close()


ITEM_KEYS = ("name", "type", "description", "sensitivity", "classification")


def _parse_json(content: bytes, reading: _Reading) -> list[ParsedEntry]:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reading.report(getattr(exc, "lineno", 1), "", f"not JSON: {exc}")
        return []
    except RecursionError:
        reading.report(1, "", "not a catalogue file: nested deeper than any entry")
        return []
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        reading.report(1, "", 'must be a list of entries or {"entries": [...]}')
        return []
    out = []
    for n, raw in enumerate(data, start=1):
        reading.row(n)
        if not isinstance(raw, dict):
            reading.report(n, "", "an entry must be an object")
            continue
        unknown = set(raw) - set(ENTRY_COLUMNS) - {"data_items"}
        for key in sorted(unknown):
            reading.report(n, reading.text(n, "", key)[:64], "unknown key")
        entry: dict[str, Any] = {}
        for c in ENTRY_COLUMNS:
            value = raw.get(c, [] if c in LIST_COLUMNS else False if c in BOOL_COLUMNS else "")
            if c in LIST_COLUMNS and not (
                isinstance(value, list) and all(isinstance(x, str) for x in value)
            ):
                reading.report(n, c, "must be a list of strings")
                value = []
            elif c in BOOL_COLUMNS and not isinstance(value, bool):
                reading.report(n, c, "must be true or false")
                value = False
            elif c not in LIST_COLUMNS | BOOL_COLUMNS and not isinstance(value, str):
                reading.report(n, c, "must be a string")
                value = ""
            if isinstance(value, str):
                value = VALUE_ALIASES.get(c, {}).get(value, reading.text(n, c, value))
            elif isinstance(value, list):
                value = [reading.text(n, c, x) for x in value]
            entry[c] = value
        items = raw.get("data_items", [])
        entry["data_items"] = []
        if not isinstance(items, list):
            reading.report(n, "data_items", "must be a list")
            items = []
        for k, item in enumerate(items, start=1):
            reading.row(n)
            where = f"data_items[{k}]"
            if not isinstance(item, dict) or set(item) - set(ITEM_KEYS):
                reading.report(n, where, f"keys must be {', '.join(ITEM_KEYS)}")
                continue
            values = {}
            for key in ITEM_KEYS:
                value = item.get(key, "")
                if not isinstance(value, str):
                    reading.report(n, f"{where}.{key}", "must be a string")
                    value = ""
                values[key] = reading.text(n, f"{where}.{key}", value)
            entry["data_items"].append(values)
        out.append(ParsedEntry(entry, n))
    return out


def parse(
    content: bytes,
    fmt: str,
    *,
    limits: ImportLimits | None = None,
    expired: Callable[[], bool] | None = None,
) -> tuple[list[ParsedEntry], list[ImportProblem]]:
    """Read a catalogue file, within the rule file's limits.

    Reading touches no database: call it before opening a transaction. A file over a limit
    (size, rows, cell length, problems) is refused with a problem naming the line and column
    where reading stopped; nothing in it raises.

    Args:
        content: the file's bytes.
        fmt: ``csv``, ``json`` or ``xlsx``.
        limits: the bounds to read within (default: the bundled rule file's ``[limits]``).
        expired: asked every thousand rows; when it answers true, reading is abandoned.

    Returns:
        (entries read, problems found); entries may be partial when there are problems.

    Raises:
        ValueError: unknown format.
        ImportCancelled: ``expired()`` answered true.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    reading = _Reading(limits or ImportLimits.default(), expired)
    if len(content) > reading.limits.max_file_bytes:
        return [], [
            ImportProblem(1, "", f"file is larger than {reading.limits.max_file_bytes} bytes")
        ]
    readers = {"csv": _parse_csv, "json": _parse_json, "xlsx": _parse_xlsx}
    try:
        entries = readers[fmt](content, reading)
    except _Stop:
        entries = []
    return entries, reading.problems


def _neutralised(value: str) -> str:
    """A cell a spreadsheet program shows as text: formula-leading cells get a leading ``'``."""
    return f"'{value}" if value.startswith(FORMULA_LEAD) else value


def _cell_out(column: str, value: Any) -> str:
    if column in LIST_COLUMNS:
        return ";".join(value or [])
    if column in BOOL_COLUMNS:
        return "true" if value else "false"
    return "" if value is None else str(value)


def _table(contents: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Spreadsheet rows, every cell neutralised (a stored ``=HYPERLINK(…)`` stays text)."""
    rows = [list(COLUMNS)]
    for content in contents:
        entry = [_neutralised(_cell_out(c, content.get(c))) for c in ENTRY_COLUMNS]
        for item in content["data_items"]:
            rows.append(entry + [_neutralised(str(item.get(k, ""))) for k in ITEM_KEYS])
    return rows


def export(contents: Sequence[dict[str, Any]], fmt: str) -> bytes:
    """Write entries (stored contents) as a file :func:`parse` reads back to the same entries.

    CSV and XLSX cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a
    leading ``'`` so spreadsheet programs show them as text, never run them as formulas (OWASP
    CSV injection); :func:`parse` removes that quote again.

    Raises:
        ValueError: unknown format.
    """
    if fmt == "json":
        out = [
            {
                **{c: content.get(c, [] if c in LIST_COLUMNS else "") for c in ENTRY_COLUMNS},
                "subject_consent": bool(content.get("subject_consent", False)),
                "contains_trade_secret": bool(content.get("contains_trade_secret", False)),
                "data_items": [
                    {k: str(i.get(k, "")) for k in ITEM_KEYS} for i in content["data_items"]
                ],
            }
            for content in contents
        ]
        return json.dumps({"entries": out}, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerows(_table(contents))
        return buffer.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("catalogue")
        for row in _table(contents):
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")
