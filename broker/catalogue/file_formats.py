"""Bulk catalogue files: CSV, JSON and XLSX in, the same formats out.

CSV and XLSX hold **one row per data item** — the layout departments keep their catalogues in —
with the entry's columns repeated (or left blank) on the item rows of the same entry code.
Headers may be the English column names below or their Chinese equivalents (信息资源代码, …).
JSON holds a list of entries (or ``{"entries": [...]}``) shaped like ``tongdao catalogue
create`` files. Lists in a cell are separated by ``;``, ``；`` or ``、``.

Parsing never stops at the first problem: every problem is reported with its line (CSV/XLSX:
the spreadsheet row, header = 1; JSON: the entry's position, 1-based), column and reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
MAX_FILE_BYTES = 64 * 1024 * 1024


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


def _cell(column: str, raw: Any, line: int, problems: list[ImportProblem]) -> Any:
    value = "" if raw is None else str(raw).strip()
    if column in LIST_COLUMNS:
        return _split(value)
    if column in BOOL_COLUMNS:
        low = value.lower()
        if low in TRUE:
            return True
        if low not in FALSE:
            problems.append(ImportProblem(line, column, f"{value!r} is not yes/no"))
        return False
    return VALUE_ALIASES.get(column, {}).get(value, value)


def _header(raw: Sequence[Any], problems: list[ImportProblem]) -> list[str]:
    out = []
    for n, name in enumerate(raw, start=1):
        text = "" if name is None else str(name).strip().lstrip("\ufeff")
        column = CHINESE_HEADERS.get(text, text)
        if column and column not in COLUMNS:
            problems.append(ImportProblem(1, text, f"unknown column (column {n})"))
        out.append(column)
    for required in ("code", "item_name"):
        if required not in out:
            problems.append(ImportProblem(1, required, "required column is missing"))
    return out


def _rows_to_entries(
    rows: Iterable[tuple[int, Sequence[Any]]], header: list[str], problems: list[ImportProblem]
) -> list[ParsedEntry]:
    entries: dict[str, ParsedEntry] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, raw in rows:
        if not any(c not in (None, "") for c in raw):
            continue  # blank row
        cells = {
            col: _cell(col, raw[i] if i < len(raw) else None, line, problems)
            for i, col in enumerate(header)
            if col
        }
        code = cells.get("code", "")
        if not code:
            problems.append(ImportProblem(line, "code", "must not be empty"))
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
                    problems.append(
                        ImportProblem(
                            line, c, f"differs from line {first_line[(code, c)]} of entry {code}"
                        )
                    )
        item = {
            "name": cells.get("item_name", ""),
            "type": cells.get("item_type", "") or "string",
            "description": cells.get("item_description", ""),
            "sensitivity": cells.get("item_sensitivity", "") or "general",
            "classification": cells.get("item_classification", ""),
        }
        if not item["name"]:
            problems.append(ImportProblem(line, "item_name", "must not be empty"))
            continue
        if item["name"] in parsed.item_lines:
            problems.append(
                ImportProblem(
                    line,
                    "item_name",
                    f"{item['name']!r} is already on line {parsed.item_lines[item['name']]}",
                )
            )
            continue
        parsed.item_lines[item["name"]] = line
        parsed.entry["data_items"].append(item)
    return list(entries.values())


def _parse_csv(content: bytes, problems: list[ImportProblem]) -> list[ParsedEntry]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # spreadsheets saved as CSV on Chinese Windows
        except UnicodeDecodeError:
            problems.append(ImportProblem(1, "", "file is neither UTF-8 nor GB18030 text"))
            return []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader), problems)
    except StopIteration:
        problems.append(ImportProblem(1, "", "file is empty"))
        return []
    rows = ((reader.line_num, row) for row in reader)
    return _rows_to_entries(rows, header, problems)


def _parse_xlsx(content: bytes, problems: list[ImportProblem]) -> list[ParsedEntry]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        problems.append(ImportProblem(1, "", f"not an XLSX workbook ({type(exc).__name__})"))
        return []
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = _header(list(next(rows)), problems)
    except StopIteration:
        problems.append(ImportProblem(1, "", "the first sheet is empty"))
        return []
    out = _rows_to_entries(((n, list(r)) for n, r in enumerate(rows, start=2)), header, problems)
    book.close()
    return out


ITEM_KEYS = ("name", "type", "description", "sensitivity", "classification")


def _parse_json(content: bytes, problems: list[ImportProblem]) -> list[ParsedEntry]:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(ImportProblem(getattr(exc, "lineno", 1), "", f"not JSON: {exc}"))
        return []
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        problems.append(ImportProblem(1, "", 'must be a list of entries or {"entries": [...]}'))
        return []
    out = []
    for n, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            problems.append(ImportProblem(n, "", "an entry must be an object"))
            continue
        unknown = set(raw) - set(ENTRY_COLUMNS) - {"data_items"}
        for key in sorted(unknown):
            problems.append(ImportProblem(n, key, "unknown key"))
        entry: dict[str, Any] = {}
        for c in ENTRY_COLUMNS:
            value = raw.get(c, [] if c in LIST_COLUMNS else False if c in BOOL_COLUMNS else "")
            if c in LIST_COLUMNS and not (
                isinstance(value, list) and all(isinstance(x, str) for x in value)
            ):
                problems.append(ImportProblem(n, c, "must be a list of strings"))
                value = []
            elif c in BOOL_COLUMNS and not isinstance(value, bool):
                problems.append(ImportProblem(n, c, "must be true or false"))
                value = False
            elif c not in LIST_COLUMNS | BOOL_COLUMNS and not isinstance(value, str):
                problems.append(ImportProblem(n, c, "must be a string"))
                value = ""
            entry[c] = (
                VALUE_ALIASES.get(c, {}).get(value, value) if isinstance(value, str) else value
            )
        items = raw.get("data_items", [])
        entry["data_items"] = []
        if not isinstance(items, list):
            problems.append(ImportProblem(n, "data_items", "must be a list"))
            items = []
        for k, item in enumerate(items, start=1):
            if not isinstance(item, dict) or set(item) - set(ITEM_KEYS):
                problems.append(
                    ImportProblem(n, f"data_items[{k}]", f"keys must be {', '.join(ITEM_KEYS)}")
                )
                continue
            entry["data_items"].append({k2: str(item.get(k2, "")) for k2 in ITEM_KEYS})
        out.append(ParsedEntry(entry, n))
    return out


def parse(content: bytes, fmt: str) -> tuple[list[ParsedEntry], list[ImportProblem]]:
    """Read a catalogue file.

    Args:
        content: the file's bytes.
        fmt: ``csv``, ``json`` or ``xlsx``.

    Returns:
        (entries read, problems found); entries may be partial when there are problems.

    Raises:
        ValueError: unknown format.
    """
    problems: list[ImportProblem] = []
    if len(content) > MAX_FILE_BYTES:
        return [], [ImportProblem(1, "", f"file is larger than {MAX_FILE_BYTES} bytes")]
    if fmt == "csv":
        entries = _parse_csv(content, problems)
    elif fmt == "json":
        entries = _parse_json(content, problems)
    elif fmt == "xlsx":
        entries = _parse_xlsx(content, problems)
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return entries, problems


def _cell_out(column: str, value: Any) -> str:
    if column in LIST_COLUMNS:
        return ";".join(value or [])
    if column in BOOL_COLUMNS:
        return "true" if value else "false"
    return "" if value is None else str(value)


def _table(contents: Sequence[dict[str, Any]]) -> list[list[str]]:
    rows = [list(COLUMNS)]
    for content in contents:
        entry = [_cell_out(c, content.get(c)) for c in ENTRY_COLUMNS]
        for item in content["data_items"]:
            rows.append(entry + [str(item.get(k, "")) for k in ITEM_KEYS])
    return rows


def export(contents: Sequence[dict[str, Any]], fmt: str) -> bytes:
    """Write entries (stored contents) as a file :func:`parse` reads back to the same entries.

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
