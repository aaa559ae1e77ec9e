"""A year's official holiday schedule (the State Council's notice) from a TOML or CSV file.

The file lists every day off of the year's breaks (weekend days inside a break too) and every
make-up working day (调休). It is validated whole and refused whole: the first problem found is
reported with its line. Formats (see docs/policies.md, "Loading the official schedule"):

TOML::

    year = 2027
    source = "国务院办公厅关于2027年部分节假日安排的通知"
    [[holidays]]
    name = "Spring Festival"
    from = 2027-02-05          # or: date = 2027-02-05 for a single day
    to = 2027-02-12
    [[workdays]]
    name = "Spring Festival"
    date = 2027-02-20

CSV (``#`` lines are comments; ``# source: …`` names the notice)::

    kind,from,to,name
    holiday,2027-02-05,2027-02-12,Spring Festival
    workday,2027-02-20,,Spring Festival
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongdao.policies.holiday_rules import HolidayRules, statutory_days

MAX_BREAK_DAYS = 15  # the longest break a notice sets is 8–9 days
MAX_DAYS_OFF = 40  # 13 statutory days, weekends inside breaks and days in lieu stay far below
MAX_WORKDAYS = 12
CSV_HEADER = ("kind", "from", "to", "name")


class ScheduleError(ValueError):
    """A schedule file is refused: ``line`` (0 when it concerns the whole file) and ``problem``."""

    def __init__(self, file: str, line: int, problem: str) -> None:
        where = f"line {line}" if line else "file"
        super().__init__(f"{file}: {where}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class OfficialYear:
    """One year's official schedule: days off and make-up working days, each with its name."""

    year: int
    source: str
    holidays: dict[dt.date, str]
    workdays: dict[dt.date, str]


@dataclass(frozen=True)
class _Row:
    line: int
    kind: str  # "holidays" | "workdays"
    first: dt.date
    last: dt.date
    name: str


def _as_date(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def _parse_toml(file: str, text: str) -> tuple[int | None, str, list[_Row]]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ScheduleError(
            file, int(match.group(1)) if match else 0, f"not valid TOML: {exc}"
        ) from None
    lines = text.splitlines()

    def header_line(kind: str, n: int) -> int:
        seen = -1
        for number, line in enumerate(lines, start=1):
            if line.strip().startswith(f"[[{kind}]]"):
                seen += 1
                if seen == n:
                    return number
        for number, line in enumerate(lines, start=1):  # inline array form
            if line.strip().startswith(kind):
                return number
        return 0

    def key_line(key: str) -> int:
        for number, line in enumerate(lines, start=1):
            if re.match(rf"\s*{key}\s*=", line):
                return number
        return 0

    unknown = sorted(set(raw) - {"year", "source", "holidays", "workdays"})
    if unknown:
        raise ScheduleError(file, key_line(unknown[0]), f"unknown key {unknown[0]!r}")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ScheduleError(file, key_line("year"), "year = YYYY is required (an integer)")
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise ScheduleError(file, key_line("source"), "source must be a string")
    rows: list[_Row] = []
    for kind in ("holidays", "workdays"):
        items = raw.get(kind, [])
        if not isinstance(items, list):
            raise ScheduleError(file, key_line(kind), f"{kind} must be a list of [[{kind}]]")
        for n, item in enumerate(items):
            line = header_line(kind, n)
            if not isinstance(item, dict):
                raise ScheduleError(file, line, f"{kind}[{n}] must be a table")
            extra = sorted(set(item) - {"name", "date", "from", "to"})
            if extra:
                raise ScheduleError(file, line, f"{kind}[{n}]: unknown key {extra[0]!r}")
            single = item.get("date")
            first = _as_date(item.get("from", single))
            last = _as_date(item.get("to", first))
            if first is None or last is None:
                raise ScheduleError(
                    file, line, f"{kind}[{n}]: needs date = YYYY-MM-DD, or from and to dates"
                )
            if single is not None and ("from" in item or "to" in item):
                raise ScheduleError(file, line, f"{kind}[{n}]: give date or from/to, not both")
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ScheduleError(file, line, f"{kind}[{n}]: name must be a non-empty string")
            rows.append(_Row(line, kind, first, last, name.strip()))
    return year, source, rows


def _parse_csv(file: str, text: str) -> tuple[int | None, str, list[_Row]]:
    source = ""
    rows: list[_Row] = []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if comment.lower().startswith("source:"):
                source = comment.split(":", 1)[1].strip()
            continue
        cells = [c.strip() for c in next(csv.reader(io.StringIO(line)))]
        if not header_seen:
            if tuple(c.lower() for c in cells) != CSV_HEADER:
                raise ScheduleError(file, number, f"the header must be {','.join(CSV_HEADER)}")
            header_seen = True
            continue
        if len(cells) != len(CSV_HEADER):
            raise ScheduleError(file, number, f"needs {len(CSV_HEADER)} columns, has {len(cells)}")
        kind, first_text, last_text, name = cells
        if kind not in ("holiday", "workday"):
            raise ScheduleError(file, number, f"kind {kind!r} must be holiday or workday")
        try:
            first = dt.date.fromisoformat(first_text)
            last = dt.date.fromisoformat(last_text) if last_text else first
        except ValueError:
            raise ScheduleError(
                file, number, f"{first_text!r}/{last_text!r} is not a date like 2027-02-05"
            ) from None
        if not name:
            raise ScheduleError(file, number, "name is empty")
        rows.append(_Row(number, f"{kind}s", first, last, name))
    if not header_seen:
        raise ScheduleError(file, 0, f"empty file (header {','.join(CSV_HEADER)} expected)")
    return None, source, rows


def parse_schedule(
    text: str, *, file: str = "-", csv_format: bool = False, rules: HolidayRules | None = None
) -> OfficialYear:
    """Parse and validate one year's official schedule.

    Args:
        text: the file's content.
        file: its name, for messages.
        csv_format: the CSV form (else TOML).
        rules: the national holiday rules; when given, every statutory day of the year must be a
            day off in the schedule (the notice cannot take a statutory holiday away).

    Returns:
        The validated year.

    Raises:
        ScheduleError: the first problem, with its line.
    """
    year, source, rows = (_parse_csv if csv_format else _parse_toml)(file, text)
    if not rows:
        raise ScheduleError(file, 0, "lists no holidays")
    if year is None:
        year = rows[0].first.year
    if not 1900 < year < 2100:
        raise ScheduleError(file, 0, f"year {year} is not plausible")
    days: dict[str, dict[dt.date, str]] = {"holidays": {}, "workdays": {}}
    first_line: dict[dt.date, int] = {}
    for row in rows:
        if row.last < row.first:
            raise ScheduleError(file, row.line, f"ends {row.last} before it starts {row.first}")
        if (row.last - row.first).days + 1 > MAX_BREAK_DAYS:
            raise ScheduleError(
                file, row.line, f"a break of more than {MAX_BREAK_DAYS} days is not plausible"
            )
        day = row.first
        while day <= row.last:
            if day.year != year:
                raise ScheduleError(file, row.line, f"{day} is not in {year}")
            if day in first_line:
                both = (day in days["holidays"] and row.kind == "workdays") or (
                    day in days["workdays"] and row.kind == "holidays"
                )
                problem = (
                    "is both a holiday and a make-up working day" if both else "is listed twice"
                )
                raise ScheduleError(
                    file, row.line, f"{day} {problem} (also on line {first_line[day]})"
                )
            if row.kind == "workdays" and day.weekday() < 5:
                raise ScheduleError(
                    file,
                    row.line,
                    f"{day} is a {day:%A}: a make-up working day (调休) is a Saturday or Sunday",
                )
            first_line[day] = row.line
            days[row.kind][day] = row.name
            day += dt.timedelta(days=1)
    if len(days["holidays"]) > MAX_DAYS_OFF:
        raise ScheduleError(
            file, 0, f"{len(days['holidays'])} days off is not plausible (at most {MAX_DAYS_OFF})"
        )
    if len(days["workdays"]) > MAX_WORKDAYS:
        raise ScheduleError(
            file,
            0,
            f"{len(days['workdays'])} make-up working days is not plausible "
            f"(at most {MAX_WORKDAYS})",
        )
    if rules is not None and year >= rules.effective_from.year:
        for day, rule in statutory_days(rules, year):
            if day not in days["holidays"]:
                line = next((r.line for r in rows if r.name in (rule.name, rule.name_zh)), 0)
                raise ScheduleError(
                    file,
                    line,
                    f"{day} ({rule.name}) is a statutory holiday ({rules.title} "
                    f"{rules.article}) but not a day off here: list every day off of each break",
                )
    return OfficialYear(year, source, days["holidays"], days["workdays"])


def render_schedule(year: OfficialYear) -> str:
    """The year in the TOML form, one entry per day (what the calendar store keeps)."""

    def esc(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # JSON string escapes are valid TOML

    out = [f"year = {year.year}", f"source = {esc(year.source)}", ""]
    for kind, days in (("holidays", year.holidays), ("workdays", year.workdays)):
        for day in sorted(days):
            out += [f"[[{kind}]]", f"date = {day.isoformat()}", f"name = {esc(days[day])}", ""]
    return "\n".join(out)


def store_path(directory: Path, year: int) -> Path:
    """Where the calendar store keeps ``year``: ``DIR/prc-YYYY.toml``."""
    return directory / f"prc-{year}.toml"


def save_to_store(directory: Path, year: OfficialYear) -> Path:
    """Write ``year`` into the store (replacing that year); return the file written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = store_path(directory, year.year)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render_schedule(year), encoding="utf-8")
    tmp.replace(path)
    return path


def load_store(directory: Path) -> dict[int, OfficialYear]:
    """Every year in the store (validated again: a hand-edited file is refused, naming it).

    Raises:
        ScheduleError: a stored file is malformed.
    """
    out: dict[int, OfficialYear] = {}
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("prc-*.toml")):
        year = parse_schedule(path.read_text(encoding="utf-8"), file=str(path))
        out[year.year] = year
    return out


def schedule_dict(year: OfficialYear) -> dict[str, Any]:
    """A JSON-ready summary (for ledger entries and ``--json``)."""
    return {
        "year": year.year,
        "source": year.source,
        "holidays": len(year.holidays),
        "workdays": len(year.workdays),
    }
