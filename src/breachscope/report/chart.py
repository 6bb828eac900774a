"""Charts for the report, as inline SVG built here (no library, no network, no script).

Every label that may come from evidence (table names, systems, accounts) goes through
`html.escape`; the SVG is then handed to the template as markup. Markdown gets a text chart.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from breachscope.store import DATABASE_NAME

PALETTE = (
    "#1f6fb2",
    "#e07b24",
    "#3a9a48",
    "#c23b3b",
    "#7a5cb0",
    "#8c6239",
    "#d66bb0",
    "#6f6f6f",
    "#a8a832",
    "#2bb0c0",
)
TEXT_BAR_WIDTH = 40


@dataclass
class DailyEvents:
    """Events per UTC day and table, from the store's `events` view."""

    days: list[dt.date] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    counts: dict[tuple[dt.date, str], int] = field(default_factory=dict)
    error: str | None = None

    def total(self, day: dt.date) -> int:
        return sum(self.counts.get((day, table), 0) for table in self.tables)


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def daily_events(out_dir: Path) -> DailyEvents:
    """Read events per day from ``OUT/breachscope.duckdb`` (read-only, views made by the run)."""
    database = out_dir / DATABASE_NAME
    if not database.is_file():
        return DailyEvents(error=f"no {DATABASE_NAME} in the output folder")
    try:
        con = duckdb.connect(str(database), read_only=True)
        try:
            rows = con.execute(
                'SELECT CAST(floor(epoch(time) / 86400) AS BIGINT) AS day, "table", count(*) '
                "FROM events WHERE time IS NOT NULL GROUP BY ALL ORDER BY 1, 2"
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error as error:
        return DailyEvents(error=f"the events view could not be read: {error}")
    result = DailyEvents()
    epoch = dt.date(1970, 1, 1)
    for day_number, table, count in rows:
        day = epoch + dt.timedelta(days=int(day_number))
        result.counts[(day, str(table))] = int(count)
    if result.counts:
        first = min(day for day, _ in result.counts)
        last = max(day for day, _ in result.counts)
        result.days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        result.tables = sorted({table for _, table in result.counts})
    return result


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).date()


def events_svg(events: DailyEvents, start: str | None, end: str | None) -> str:
    """Stacked bars per day and table, with the window shaded."""
    if not events.days:
        return ""
    width, height = 960, 300
    left, right, top, bottom = 56, 12, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(events.total(day) for day in events.days) or 1
    slot = plot_w / len(events.days)
    bar = max(slot * 0.8, 1.0)
    first = events.days[0]
    out = [
        f'<svg class="chart" viewBox="0 0 {width} '
        f'{height + 18 * ((len(events.tables) + 4) // 5)}" role="img" '
        'aria-label="Events per day">'
    ]
    window_start, window_end = _date(start), _date(end)
    if window_start is not None:
        last = window_end or events.days[-1]
        x0 = left + (window_start - first).days * slot
        x1 = left + ((last - first).days + 1) * slot
        x0, x1 = max(x0, left), min(x1, left + plot_w)
        if x1 > x0:
            out.append(
                f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot_h}" '
                'fill="#fbe3e3"/>'
            )
            out.append(
                f'<text x="{x0 + 4:.1f}" y="{top + 12}" font-size="11" fill="#a33">'
                "infection window</text>"
            )
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h - fraction * plot_h
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{round(peak * fraction)}</text>"
        )
    for index, day in enumerate(events.days):
        x = left + index * slot + (slot - bar) / 2
        y = top + plot_h
        for number, table in enumerate(events.tables):
            count = events.counts.get((day, table), 0)
            if not count:
                continue
            h = count / peak * plot_h
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}"><title>{_escape(day.isoformat())} '
                f"{_escape(table)}: {count}</title></rect>"
            )
    step = max(1, len(events.days) // 8)
    for index in range(0, len(events.days), step):
        x = left + index * slot + slot / 2
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">'
            f"{_escape(events.days[index].isoformat())}</text>"
        )
    for number, table in enumerate(events.tables):
        x = left + (number % 5) * 180
        y = height - 12 + (number // 5) * 18
        out.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="12">{_escape(table)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def events_text(events: DailyEvents) -> list[str]:
    """A text chart for Markdown: events per ISO week."""
    weeks: dict[dt.date, int] = {}
    for day in events.days:
        monday = day - dt.timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + events.total(day)
    peak = max(weeks.values(), default=0) or 1
    lines = []
    for monday, count in sorted(weeks.items()):
        bar = "#" * round(count / peak * TEXT_BAR_WIDTH)
        lines.append(f"week of {monday.isoformat()}  {bar:<{TEXT_BAR_WIDTH}}  {count}")
    return lines


@dataclass
class Bar:
    """One horizontal bar split into labelled parts (e.g. logons of a credential by reason)."""

    label: str
    parts: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.parts)


def bars_svg(bars: list[Bar]) -> str:
    """Horizontal stacked bars with a shared legend."""
    if not bars or not any(b.total for b in bars):
        return ""
    keys: list[str] = []
    for item in bars:
        for key, _ in item.parts:
            if key not in keys:
                keys.append(key)
    width, label_w, row_h = 960, 300, 28
    plot_w = width - label_w - 70
    peak = max(b.total for b in bars) or 1
    height = len(bars) * row_h + 12 + 18 * ((len(keys) + 2) // 3)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="Logons per credential">'
    ]
    for row, item in enumerate(bars):
        y = row * row_h + 4
        out.append(
            f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{_escape(item.label)}</text>"
        )
        x = float(label_w)
        for key, count in item.parts:
            if not count:
                continue
            w = count / peak * plot_w
            colour = PALETTE[keys.index(key) % len(PALETTE)]
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="20" fill="{colour}">'
                f"<title>{_escape(key)}: {count}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{item.total}</text>')
    base = len(bars) * row_h + 16
    for number, key in enumerate(keys):
        x = (number % 3) * 320
        y = base + (number // 3) * 18
        out.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="12">{_escape(key)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
