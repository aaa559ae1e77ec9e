"""Charts drawn on the server as SVG: requests and queries per day, deadline compliance per
month. Plain markup (no script, no style attribute), so the strict content-security policy
holds and the chart scales to the page's width through its viewBox.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 40, 54
MAX_BAR = 56
PALETTE = ("#2f6f9f", "#c0392b", "#e0a526", "#7f8c8d", "#27ae60")
# on time, late, overdue, open
COMPLIANCE_COLOURS = ("#27ae60", "#e0a526", "#c0392b", "#95a5a6")


@dataclass(frozen=True)
class Series:
    """One stacked part of every bar: its legend label, colour and one value per bar."""

    label: str
    values: tuple[int, ...]
    colour: str


def per_day(times: Iterable[str], today: dt.date, days: int) -> list[tuple[dt.date, int]]:
    """How many of the ISO 8601 ``times`` fall on each of the ``days`` days ending ``today``."""
    counts: Counter[dt.date] = Counter()
    for value in times:
        try:
            counts[dt.date.fromisoformat(value[:10])] += 1
        except ValueError:
            continue
    first = today - dt.timedelta(days=days - 1)
    return [
        (first + dt.timedelta(days=n), counts[first + dt.timedelta(days=n)]) for n in range(days)
    ]


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    step: int = 10 ** (len(str(value)) - 1)
    return ((value + step - 1) // step) * step


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], empty: str) -> Markup:
    """Stacked bars, one per label, with a y axis, a legend and ``title`` for screen readers;
    ``empty`` is drawn when every value is zero."""
    n = max(len(labels), 1)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    bar = min(max(slot * 0.7, 1.0), MAX_BAR)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="20" font-size="15" font-weight="600" fill="#1f2d3a">'
        f"{escape(title)}</text>",
    ]
    for k in range(6):
        value = top * k // 5
        y = TOP + plot_h - plot_h * k / 5
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d5d8dc" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{value}</text>'
        )
    every = max(1, n // 10)
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar) / 2
        base = float(TOP + plot_h)
        for s in series:
            v = s.values[i]
            if not v:
                continue
            h = plot_h * v / top
            base -= h
            out.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.colour}"><title>{escape(label)} · {escape(s.label)}: {v}</title></rect>'
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}" font-size="11" '
                f'text-anchor="middle" fill="#555">{escape(label)}</text>'
            )
    if not any(totals):
        out.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" font-size="14" text-anchor="middle" '
            f'fill="#777">{escape(empty)}</text>'
        )
    x = LEFT
    for s in series:
        out.append(
            f'<rect x="{x}" y="{HEIGHT - 20}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 10}" font-size="12" fill="#333">'
            f"{escape(s.label)}</text>"
        )
        x += 30 + 13 * len(s.label)
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every text above is escaped)


def daily_chart(
    title: str, label: str, times: Iterable[str], today: dt.date, days: int, empty: str
) -> Markup:
    """Bars of how many ``times`` fall on each day of the last ``days``."""
    counts = per_day(times, today, days)
    labels = [d.strftime("%m-%d") for d, _ in counts]
    return bar_chart(title, labels, [Series(label, tuple(c for _, c in counts), PALETTE[0])], empty)


COMPLIANCE = ("on_time", "late", "overdue", "open")


def compliance(deadlines: Iterable[object]) -> dict[str, Counter[str]]:
    """Deadlines by month of their due date (``YYYY-MM``) and outcome: ``on_time`` (closed by
    the due date), ``late`` (closed after it), ``overdue`` (open and past it), ``open``."""
    out: dict[str, Counter[str]] = {}
    for d in deadlines:
        month = str(getattr(d, "due_on", ""))[:7]
        if not month:
            continue
        if getattr(d, "closed_on", ""):
            outcome = "late" if getattr(d, "closed_late", False) else "on_time"
        else:
            outcome = "overdue" if getattr(d, "overdue", False) else "open"
        out.setdefault(month, Counter())[outcome] += 1
    return dict(sorted(out.items()))


def compliance_chart(
    title: str, deadlines: Iterable[object], names: dict[str, str], empty: str
) -> Markup:
    """Stacked bars per month: on time, late, overdue, open (``names`` gives each its label)."""
    by_month = compliance(deadlines)
    months = list(by_month)[-12:]
    series = [
        Series(names[key], tuple(by_month[m][key] for m in months), COMPLIANCE_COLOURS[i])
        for i, key in enumerate(COMPLIANCE)
    ]
    return bar_chart(title, months, series, empty)
