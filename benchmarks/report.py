"""The one report format of every benchmark: rows, a Markdown table, JSON and plots.

A benchmark measures and hands over :class:`Row` s (and, for a curve, :class:`Series`); this
module writes them the same way for all of them:

* ``NAME.md`` and standard output: a header (command, machine, load average, versions) and one
  Markdown table — section, measurement, value, min–max, reference, ratio, target, measured or
  extrapolated, note;
* ``NAME.json``: ``benchmark``, ``command``, ``started_at``, ``quick``, ``machine``,
  ``load_average`` (``start``, ``end``), ``versions``, ``rows`` (the table's rows, with
  ``measured`` true or false) and, under ``detail``, the benchmark's raw measurements;
* ``NAME.png``: the rows as bars with their min–max spread as error bars and each stated target
  as a dashed line; an extrapolated value is hatched and labelled "extrapolated"; ``NAME-ratio.png``
  the ratios to the reference; ``NAME-SERIES.png`` one plot per curve, extrapolated points hollow
  on a dashed line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

EXTRAPOLATED = "extrapolated"
MEASURED = "measured"
SET = "set"
COLOURS = ("#2a6f97", "#c44536", "#7a9e3b", "#8c6bb1", "#e09f3e", "#555555")


@dataclass(frozen=True)
class Target:
    """A stated goal: the ``value`` (or the ``ratio``) at least, or at most, ``bound``."""

    bound: float
    at_most: bool = False
    of: str = "value"  # "value" or "ratio"

    def met(self, row: Row) -> bool | None:
        x = row.ratio if self.of == "ratio" else row.value
        if x is None:
            return None
        return x <= self.bound if self.at_most else x >= self.bound

    def text(self, unit: str) -> str:
        sign = "≤" if self.at_most else "≥"
        return (
            f"{sign} {fmt(self.bound)}×"
            if self.of == "ratio"
            else f"{sign} {fmt(self.bound)} {unit}"
        )


@dataclass
class Row:
    """One figure of a benchmark.

    ``value`` is the median of the samples (or the single run's figure), ``low``/``high`` their
    min and max. ``reference`` names what the figure is compared to in the same run, with its
    median ``reference_value`` and ``ratio`` (value / reference: above 1 is better for rates,
    below 1 for times). ``measured`` is false for a figure computed from smaller measured runs;
    ``setting`` is true for a condition the run was set up with (shown as "set").
    """

    section: str
    name: str
    unit: str
    value: float
    low: float | None = None
    high: float | None = None
    reference: str = ""
    reference_value: float | None = None
    ratio: float | None = None
    target: Target | None = None
    measured: bool = True
    note: str = ""
    # a condition the run was set up with (a rule file's number), not a result
    setting: bool = False

    def __post_init__(self) -> None:
        if self.ratio is None and self.reference_value:
            self.ratio = self.value / self.reference_value

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["min"], data["max"] = data.pop("low"), data.pop("high")
        data["target"] = (
            None
            if self.target is None
            else {
                **asdict(self.target),
                "text": self.target.text(self.unit),
                "met": self.target.met(self),
            }
        )
        return data


@dataclass
class Point:
    """One point of a curve: ``y`` (median) at ``x``, its spread and whether it was measured."""

    x: float
    y: float
    low: float | None = None
    high: float | None = None
    measured: bool = True


@dataclass
class Series:
    """Curves drawn on one plot (``NAME-key.png``), e.g. time against batch size."""

    key: str
    title: str
    x_label: str
    y_label: str
    curves: dict[str, list[Point]] = field(default_factory=dict)
    targets: list[tuple[str, float]] = field(default_factory=list)  # (label, y)
    log_x: bool = True
    log_y: bool = False


@dataclass
class Report:
    """What one run of one benchmark produced."""

    benchmark: str
    command: str
    quick: bool = False
    machine: dict[str, Any] = field(default_factory=lambda: machine())
    versions: dict[str, str] = field(default_factory=dict)
    started_at: str = field(default_factory=lambda: _now())
    load_average: dict[str, list[float]] = field(default_factory=lambda: {"start": _load()})
    rows: list[Row] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def finish(self) -> None:
        """Record the load average at the end of the run."""
        self.load_average["end"] = _load()

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "command": self.command,
            "started_at": self.started_at,
            "quick": self.quick,
            "machine": self.machine,
            "load_average": self.load_average,
            "versions": self.versions,
            "rows": [r.to_dict() for r in self.rows],
            "series": [
                {**asdict(s), "curves": {k: [asdict(p) for p in v] for k, v in s.curves.items()}}
                for s in self.series
            ],
            "detail": self.detail,
        }

    def markdown(self) -> str:
        return markdown(self)

    def write(self, out: Path, name: str) -> list[Path]:
        """Write ``name.json``, ``name.md`` and the plots to ``out``; return the paths."""
        if "end" not in self.load_average:
            self.finish()
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / f"{name}.json", out / f"{name}.md"]
        paths[0].write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False, default=str))
        paths[1].write_text(self.markdown() + "\n")
        paths += plot(self, out, name)
        return paths


# ---------------------------------------------------------------- where and what


def command(name: str, argv: Sequence[str] | None = None) -> str:
    """The command line that reproduces a run of benchmark ``name``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["bench", name]:
        args = args[2:]
    return " ".join(["tongdao bench", name, *(shlex.quote(a) for a in args)])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """The machine the figures were taken on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def versions(*names: str) -> dict[str, str]:
    """Installed versions of ``names`` (``tongdao`` always), "not installed" when absent."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("tongdao", *names):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------- the table


def fmt(x: float | None) -> str:
    """A figure as the tables show it: thousands separated, three significant digits below 1."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}".rstrip("0").rstrip(".") if x != int(x) else f"{x:,.0f}"
    return f"{x:.3g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def header(report: Report) -> list[str]:
    m = report.machine
    load = report.load_average
    end = load.get("end")
    lines = [
        f"command: `{report.command}`" + (" (quick)" if report.quick else ""),
        f"machine: {m.get('cpu') or '?'}, {m.get('cores')} cores, Python {m.get('python')}, "
        f"{m.get('platform')}",
        "load average (1, 5, 15 min): "
        + " ".join(f"{x:.2f}" for x in load["start"])
        + " at the start"
        + (", " + " ".join(f"{x:.2f}" for x in end) + " at the end" if end else ""),
    ]
    if report.versions:
        lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in report.versions.items()))
    lines.append(f"run at {report.started_at}")
    return [f"{line}  " for line in lines[:-1]] + lines[-1:]


def table(rows: Iterable[Row]) -> str:
    """The Markdown table every benchmark prints and writes."""
    lines = [
        "| section | measurement | value | min–max | reference | ratio | target | how | note |",
        "|---|---|---:|---:|---|---:|---|---|---|",
    ]
    for r in rows:
        spread = f"{fmt(r.low)}–{fmt(r.high)}" if r.low is not None and r.high is not None else "—"
        ref = f"{r.reference} {fmt(r.reference_value)}" if r.reference else "—"
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        target = "—"
        if r.target is not None:
            met = r.target.met(r)
            target = r.target.text(r.unit) + (
                "" if met is None else " met" if met else " **not met**"
            )
        cells = (
            r.section,
            r.name,
            f"{fmt(r.value)} {r.unit}",
            spread,
            ref,
            ratio,
            target,
            SET if r.setting else MEASURED if r.measured else EXTRAPOLATED,
            r.note,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    return "\n".join([*header(report), "", table(report.rows)])


# ---------------------------------------------------------------- plots


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(report: Report, out: Path, name: str) -> list[Path]:
    """Every plot of a report; returns the files written."""
    paths = []
    if report.rows:
        paths.append(plot_rows(report.rows, out / f"{name}.png", report.benchmark))
    ratio_rows = [r for r in report.rows if r.ratio is not None]
    if ratio_rows:
        paths.append(plot_ratios(ratio_rows, out / f"{name}-ratio.png", report.benchmark))
    for series in report.series:
        paths.append(plot_series(series, out / f"{name}-{series.key}.png"))
    return paths


def _err(value: float, low: float | None, high: float | None) -> tuple[float, float]:
    if low is None or high is None:
        return 0.0, 0.0
    return max(0.0, value - low), max(0.0, high - value)


def plot_rows(rows: Sequence[Row], path: Path, title: str) -> Path:
    """Bars of the rows' values, one panel per section and unit, min–max as error bars (the
    run's settings are in the table, not drawn)."""
    plt = _pyplot()
    panels: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        if r.setting:
            continue
        panels.setdefault((r.section, r.unit), []).append(r)
    heights = [0.45 * len(v) + 0.9 for v in panels.values()]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(10, sum(heights) + 0.6),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
        layout="constrained",
    )
    for ax, ((section, unit), group) in zip(axes[:, 0], panels.items(), strict=True):
        ys = list(range(len(group)))
        values = [r.value for r in group]
        errs = [_err(r.value, r.low, r.high) for r in group]
        bars = ax.barh(
            ys,
            values,
            xerr=[[e[0] for e in errs], [e[1] for e in errs]],
            color=[COLOURS[0] if r.measured else "white" for r in group],
            edgecolor=COLOURS[0],
            hatch=["" if r.measured else "//" for r in group],
            capsize=3,
            error_kw={"elinewidth": 1, "ecolor": "#333333"},
        )
        for bar, r in zip(bars, group, strict=True):
            if not r.measured:
                ax.annotate(
                    EXTRAPOLATED,
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        targets = [
            (y, r.target)
            for y, r in zip(ys, group, strict=True)
            if r.target and r.target.of == "value"
        ]
        for n, (y, target) in enumerate(targets):
            ax.plot(
                [target.bound] * 2,
                [y - 0.45, y + 0.45],
                "--",
                color=COLOURS[1],
                lw=1.5,
                zorder=3,
                label="target" if n == 0 else None,
            )
        ax.set_yticks(ys, [r.name for r in group], fontsize=8)
        ax.invert_yaxis()
        positive = [v for v in values if v > 0]
        if positive and max(positive) / min(positive) > 50:
            ax.set_xscale("log")
        ax.set_xlabel(unit, fontsize=8)
        ax.set_title(section, fontsize=9, loc="left")
        if targets:
            ax.legend(fontsize=7, loc="lower right")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(f"{title}: median, min–max of the samples", fontsize=10)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_ratios(rows: Sequence[Row], path: Path, title: str) -> Path:
    """Ratios to the reference; the error bars scale our min–max by the reference's median."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 0.4 * len(rows) + 1.4), layout="constrained")
    ys = list(range(len(rows)))
    ratios = [r.ratio or 0.0 for r in rows]
    errs = [_err(r.value, r.low, r.high) if r.reference_value else (0.0, 0.0) for r in rows]
    scale = [1 / r.reference_value if r.reference_value else 0.0 for r in rows]
    ax.barh(
        ys,
        ratios,
        xerr=[
            [e[0] * s for e, s in zip(errs, scale, strict=True)],
            [e[1] * s for e, s in zip(errs, scale, strict=True)],
        ],
        color=[COLOURS[0] if r.measured else "white" for r in rows],
        edgecolor=COLOURS[0],
        hatch=["" if r.measured else "//" for r in rows],
        capsize=3,
    )
    first = True
    for y, r in zip(ys, rows, strict=True):
        if r.target is not None and r.target.of == "ratio":
            ax.plot(
                [r.target.bound] * 2,
                [y - 0.45, y + 0.45],
                "--",
                color=COLOURS[1],
                lw=1.5,
                zorder=3,
                label="target" if first else None,
            )
            first = False
    ax.axvline(1.0, color="grey", lw=1)
    ax.set_yticks(ys, [f"{r.section}: {r.name}" for r in rows], fontsize=8)
    ax.invert_yaxis()
    positive = [x for x in ratios if x > 0]
    if positive and max(positive) / min(positive) > 20:
        ax.set_xscale("log")
    references = ", ".join(dict.fromkeys(r.reference for r in rows))
    ax.set_xlabel(f"ratio to the reference ({references}), same run; rates: above 1 is faster")
    ax.set_title(f"{title}: ratio to the reference")
    if not first:
        ax.legend(fontsize=7, loc="lower right")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_series(series: Series, path: Path) -> Path:
    """Curves: measured points filled with min–max bars, extrapolated ones hollow and dashed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (label, points), colour in zip(series.curves.items(), COLOURS * 4, strict=False):
        points = sorted(points, key=lambda p: p.x)
        measured = [p for p in points if p.measured]
        guessed = [p for p in points if not p.measured]
        if measured:
            ax.errorbar(
                [p.x for p in measured],
                [p.y for p in measured],
                yerr=[[_err(p.y, p.low, p.high)[i] for p in measured] for i in (0, 1)],
                fmt="o-",
                color=colour,
                capsize=3,
                label=f"{label}, {MEASURED}",
            )
        if guessed:
            joined = measured[-1:] + guessed  # the dashed line continues from the last measured
            ax.plot([p.x for p in joined], [p.y for p in joined], "--", color=colour, lw=1)
            ax.scatter(
                [p.x for p in guessed],
                [p.y for p in guessed],
                marker="o",
                facecolors="none",
                edgecolors=colour,
                label=f"{label}, {EXTRAPOLATED}",
                zorder=3,
            )
    for n, (label, y) in enumerate(series.targets):
        ax.axhline(y, ls="--", color=COLOURS[1 + n % 5], lw=1, label=f"target: {label}")
    if series.log_x:
        ax.set_xscale("log")
    if series.log_y:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel(series.x_label)
    ax.set_ylabel(series.y_label)
    ax.set_title(series.title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
