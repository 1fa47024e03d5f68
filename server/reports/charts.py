"""The report's charts, drawn here as SVG from the figures the report already holds.

Nothing is fetched from elsewhere (the office may be offline) and nothing runs in the browser:
each chart is a plain SVG document the page shows as an image and the printed report carries
inline. They are made to survive a black-and-white printer: every bar carries its number,
"over the target" and "below the goal" are hatched as well as shaded, and each chart has a
title and a text alternative (``<title>``, ``<desc>``) that reads out the same figures.

A chart only places and labels figures of the report (``server/reports/figures.py`` computes
them); the one thing decided here is how dark a heatmap cell is, relative to the darkest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from server.reports.formats import NOBODY, bin_label, num, pct
from server.reports.staffing import GOAL

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 760
FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
INK, SOLID, LIGHT = "#000", "#4d4d4d", "#d9d9d9"
LEFT, RIGHT = 56, 16
MAX_DAY_BARS = 62
"""Beyond two months of days, service level is drawn by month."""

Report = Mapping[str, Any]


class Chart:
    """One SVG document under construction: its text alternative first, then its drawing."""

    def __init__(self, name: str, height: float, title: str, description: str) -> None:
        self.name = name
        self.root = ET.Element(
            "svg",
            {
                "xmlns": SVG_NS,
                "viewBox": f"0 0 {WIDTH} {height:g}",
                "width": str(WIDTH),
                "height": f"{height:g}",
                "role": "img",
                "aria-labelledby": f"{name}-title {name}-desc",
                "font-family": FONT,
                "class": f"chart chart-{name}",
            },
        )
        ET.SubElement(self.root, "title", {"id": f"{name}-title"}).text = title
        ET.SubElement(self.root, "desc", {"id": f"{name}-desc"}).text = description
        defs = ET.SubElement(self.root, "defs")
        hatch = ET.SubElement(
            defs,
            "pattern",
            {
                "id": self.hatch_id,
                "width": "6",
                "height": "6",
                "patternUnits": "userSpaceOnUse",
                "patternTransform": "rotate(45)",
            },
        )
        ET.SubElement(hatch, "rect", {"width": "6", "height": "6", "fill": "#fff"})
        ET.SubElement(
            hatch, "line", {"x1": "0", "y1": "0", "x2": "0", "y2": "6", "stroke": INK}
        ).set("stroke-width", "2.5")
        ET.SubElement(
            self.root, "rect", {"width": str(WIDTH), "height": f"{height:g}", "fill": "#fff"}
        )
        self.text(LEFT - 40, 20, title, size=15, anchor="start", weight="bold")

    @property
    def hatch_id(self) -> str:
        return f"{self.name}-hatch"  # unique per chart: the printed report inlines them all

    @property
    def hatched(self) -> str:
        return f"url(#{self.hatch_id})"

    def text(
        self,
        x: float,
        y: float,
        words: str,
        *,
        size: float = 11,
        anchor: str = "middle",
        weight: str | None = None,
        fill: str = INK,
        cls: str | None = None,
    ) -> ET.Element:
        attrs = {
            "x": f"{x:.1f}",
            "y": f"{y:.1f}",
            "font-size": f"{size:g}",
            "text-anchor": anchor,
            "fill": fill,
        }
        if weight:
            attrs["font-weight"] = weight
        if cls:
            attrs["class"] = cls
        node = ET.SubElement(self.root, "text", attrs)
        node.text = words
        return node

    def rect(
        self, x: float, y: float, w: float, h: float, fill: str, *, stroke: str | None = INK
    ) -> ET.Element:
        attrs = {
            "x": f"{x:.1f}",
            "y": f"{y:.1f}",
            "width": f"{max(w, 0):.1f}",
            "height": f"{max(h, 0):.1f}",
            "fill": fill,
        }
        if stroke:
            attrs |= {"stroke": stroke, "stroke-width": "0.8"}
        return ET.SubElement(self.root, "rect", attrs)

    def line(
        self, x1: float, y1: float, x2: float, y2: float, *, dashed: bool = False, width: float = 1
    ) -> None:
        attrs = {
            "x1": f"{x1:.1f}",
            "y1": f"{y1:.1f}",
            "x2": f"{x2:.1f}",
            "y2": f"{y2:.1f}",
            "stroke": INK,
            "stroke-width": f"{width:g}",
        }
        if dashed:
            attrs["stroke-dasharray"] = "5 3"
        ET.SubElement(self.root, "line", attrs)

    def legend(self, y: float, items: Iterable[tuple[str, str]]) -> None:
        """Swatches with their meaning, in a row at ``y``."""
        x = float(LEFT)
        for fill, words in items:
            self.rect(x, y - 10, 14, 12, fill)
            self.text(x + 20, y, words, anchor="start")
            x += 30 + 6.4 * len(words)


# ------------------------------------------------------------------- the charts


def wait_distribution(report: Report) -> Chart:
    """Per service, how long the called visitors waited, in bins, against its target."""
    panels = [(sid, s) for sid, s in report["services"].items()]
    panel_h, empty_h, top = 150.0, 40.0, 40.0
    height = top + sum(panel_h if s["wait_min"]["count"] else empty_h for _, s in panels) + 40
    lines = []
    for _, s in panels:
        bins = "; ".join(
            f"{bin_label(b['from_min'], b['to_min'])} min: {b['count']}"
            for b in s["wait_bins"]
            if b["count"]
        )
        lines.append(
            f"{s['name']} (target {s['target_wait_min']:g} min, {s['wait_min']['count']} called):"
            f" {bins or 'nobody called'}."
        )
    chart = Chart(
        "wait",
        height,
        "Wait from arrival to first call, against each service's target",
        " ".join(lines),
    )
    y = top
    plot_w = WIDTH - LEFT - RIGHT
    for _, s in panels:
        level, waits = s["service_level"], s["wait_min"]
        heading = f"{s['name']} · target {s['target_wait_min']:g} min · {waits['count']} called"
        if level["counted"]:
            heading += (
                f" · called within target {pct(level['rate'])}"
                f" ({level['met']} of {level['counted']})"
            )
        chart.text(LEFT, y + 14, heading, size=12, anchor="start", weight="bold")
        if not waits["count"]:
            chart.text(LEFT, y + 30, "Nobody was called in this period.", anchor="start")
            y += empty_h
            continue
        bins = s["wait_bins"]
        base, plot_h = y + 118, 80.0
        most = max(b["count"] for b in bins) or 1
        bar_w = plot_w / len(bins)
        for i, b in enumerate(bins):
            x = LEFT + i * bar_w
            h = max(2.0, plot_h * b["count"] / most) if b["count"] else 0.0
            fill = SOLID if b["within_target"] else chart.hatched
            if b["count"]:
                chart.rect(x + 1.5, base - h, bar_w - 3, h, fill)
                chart.text(x + bar_w / 2, base - h - 3, str(b["count"]), size=10)
            if b["to_min"] is None:  # the open-ended last bin: "30+" under its middle
                chart.text(x + bar_w / 2, base + 13, bin_label(b["from_min"], None), size=9)
            else:  # the other bins: each edge under its place
                chart.text(x, base + 13, f"{b['from_min']:g}", size=9)
            if b["within_target"] and not bins[i + 1]["within_target"]:
                target_x = x + bar_w
                chart.line(target_x, base - plot_h - 12, target_x, base, dashed=True, width=1.5)
                # the two sides named in words too: a short hatched bar hardly shows its hatching
                top_y = base - plot_h - 4
                chart.text(target_x - 4, top_y, "← within", size=10, anchor="end")
                chart.text(
                    target_x + 4,
                    top_y,
                    f"→ over the {s['target_wait_min']:g} min target",
                    size=10,
                    anchor="start",
                )
        chart.line(LEFT, base, WIDTH - RIGHT, base)
        y += panel_h
    chart.legend(
        height - 14,
        [(SOLID, "within the target"), (chart.hatched, "over the target")],
    )
    chart.text(
        WIDTH - RIGHT, height - 14, "minutes waited; numbers: visitors", size=10, anchor="end"
    )
    return chart


def _heatmap(
    report: Report, name: str, key: str, title: str, write: Callable[[float | None], str]
) -> Chart:
    cells = {(r["weekday"], r["hour"]): r[key] for r in report["weekday_hour"]}
    weekdays = [
        d for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") if d in {w for w, _ in cells}
    ]
    hours = sorted({h for _, h in cells})
    if hours:
        hours = list(range(hours[0], hours[-1] + 1))
    description = "; ".join(
        f"{day} " + ", ".join(f"{h}:00 {write(cells.get((day, h)))}" for h in hours)
        for day in weekdays
    )
    row_h, top = 30.0, 56.0
    height = top + row_h * max(1, len(weekdays)) + 50
    chart = Chart(name, height, title, description or "No visitor checked in.")
    if not hours:
        chart.text(LEFT, top + 10, "Nobody checked in in this period.", anchor="start")
        return chart
    cell_w = (WIDTH - LEFT - RIGHT) / len(hours)
    values = [v for v in cells.values() if v is not None]
    darkest = max(values) if values else 0
    for i, hour in enumerate(hours):
        chart.text(LEFT + (i + 0.5) * cell_w, top - 8, f"{hour}:00", size=10)
    for j, day in enumerate(weekdays):
        y = top + j * row_h
        chart.text(LEFT - 8, y + row_h / 2 + 4, day, size=11, anchor="end", weight="bold")
        for i, hour in enumerate(hours):
            value = cells.get((day, hour))
            shade = value / darkest if value and darkest else 0.0
            grey = round(255 - shade * 190)
            fill = f"#{grey:02x}{grey:02x}{grey:02x}"
            chart.rect(LEFT + i * cell_w, y, cell_w, row_h, fill, stroke="#999")
            if value is not None:
                chart.text(
                    LEFT + (i + 0.5) * cell_w,
                    y + row_h / 2 + 4,
                    write(value),
                    size=10,
                    fill="#fff" if shade > 0.55 else INK,
                )
    return chart


def weekday_hour_arrivals(report: Report) -> Chart:
    chart = _heatmap(
        report,
        "weekday-hour",
        "arrivals_per_day",
        "Arrivals per day, by weekday and hour (darker: busier)",
        num,
    )
    _heatmap_note(chart, "numbers: mean check-ins in that hour on that weekday's open days")
    return chart


def weekday_hour_waits(report: Report) -> Chart:
    chart = _heatmap(
        report,
        "weekday-hour-wait",
        "wait_mean_min",
        "Mean wait in minutes, by weekday and hour of arrival (darker: longer)",
        num,
    )
    _heatmap_note(chart, "numbers: mean wait (arrival to first call) of visitors called")
    return chart


def _heatmap_note(chart: Chart, words: str) -> None:
    height = float(chart.root.get("height", "0"))
    chart.text(LEFT, height - 16, words, size=10, anchor="start")


def service_level_by_day(report: Report) -> Chart:
    """Each day's (or, over a long period, each month's) service level against the goal."""
    by_month = len(report["days"]) > MAX_DAY_BARS
    rows = report["months"] if by_month else report["days"]
    unit = "month" if by_month else "day"
    description = "; ".join(
        f"{period_name(r, unit)}: {pct(r['service_level']['rate'])}"
        f" ({r['service_level']['met']} of {r['service_level']['counted']})"
        for r in rows
    )
    height = 290.0
    chart = Chart(
        "service-level",
        height,
        f"Called within target, by {unit} (goal {pct(GOAL)})",
        description or "No visit counted.",
    )
    top, base = 44.0, 220.0
    plot_h, plot_w = base - top, WIDTH - LEFT - RIGHT
    for share in (0.0, 0.5, 1.0):  # the goal is labelled on its own line
        y = base - plot_h * share
        chart.line(LEFT, y, WIDTH - RIGHT, y, width=0.4 if share else 1)
        chart.text(LEFT - 6, y + 4, pct(share), size=10, anchor="end")
    goal_y = base - plot_h * GOAL
    if not rows:
        chart.text(LEFT + 10, top + 40, "No visit was counted in this period.", anchor="start")
    bar_w = plot_w / max(1, len(rows))
    for i, r in enumerate(rows):
        x, level = LEFT + i * bar_w, r["service_level"]
        rate = level["rate"]
        if rate is None:
            chart.text(x + bar_w / 2, base - 4, NOBODY, size=10)
        else:
            h = plot_h * rate
            fill = chart.hatched if level["below_goal"] else SOLID
            chart.rect(x + 1.5, base - h, bar_w - 3, h, fill)
            if bar_w >= 18:
                chart.text(x + bar_w / 2, base - h - 3, f"{round(rate * 100):d}", size=9)
        first, second = _period_label(r, unit)
        if bar_w >= 14 or i % 2 == 0:
            chart.text(x + bar_w / 2, base + 13, first, size=9)
            chart.text(x + bar_w / 2, base + 24, second, size=9)
    chart.line(LEFT, goal_y, WIDTH - RIGHT, goal_y, dashed=True, width=1.5)
    chart.text(LEFT - 6, goal_y - 2, "goal", size=10, anchor="end", weight="bold")
    chart.text(LEFT - 6, goal_y + 9, pct(GOAL), size=10, anchor="end", weight="bold")
    chart.legend(height - 14, [(SOLID, "goal met"), (chart.hatched, "below the goal")])
    chart.text(WIDTH - RIGHT, height - 14, "numbers: % called within target", size=10, anchor="end")
    return chart


def period_name(row: Mapping[str, Any], unit: str) -> str:
    """A day or month row of the report in words ("Mon 02 Nov 2026", "November 2026")."""
    if unit == "month":
        return date.fromisoformat(row["month"] + "-01").strftime("%B %Y")
    return date.fromisoformat(row["day"]).strftime("%a %d %b %Y")


def _period_label(row: Mapping[str, Any], unit: str) -> tuple[str, str]:
    if unit == "month":
        day = date.fromisoformat(row["month"] + "-01")
        return day.strftime("%b"), day.strftime("%Y")
    day = date.fromisoformat(row["day"])
    return day.strftime("%a")[:2], str(day.day)


def arrivals_and_counters(report: Report) -> Chart:
    """Per hour of day: arrivals per day above; counters open and advised below."""
    hours = {h["hour"]: h for h in report["hours"]}
    advice = {h["hour"]: h for h in report["staffing"]["hours"]}
    shown = sorted(set(hours) | set(advice))
    description = "; ".join(
        f"{h}:00 arrivals per day {num(hours.get(h, {}).get('arrivals_per_day'))},"
        f" counters open {num(advice.get(h, {}).get('open'))},"
        f" advised {advice.get(h, {}).get('advised', NOBODY)}"
        for h in shown
    )
    height = 400.0
    chart = Chart(
        "arrivals-counters",
        height,
        "Arrivals and counters by hour of day (means per open day)",
        description or "Nothing happened in this period.",
    )
    if not shown:
        chart.text(LEFT, 60, "Nothing happened in this period.", anchor="start")
        return chart
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / len(shown)
    arrivals = [hours.get(h, {}).get("arrivals_per_day") or 0 for h in shown]
    counters = [
        max(advice.get(h, {}).get("open") or 0, advice.get(h, {}).get("advised") or 0)
        for h in shown
    ]
    top_base, top_h = 170.0, 110.0
    low_base, low_h = 330.0, 110.0
    chart.text(LEFT, 46, "Visitors arriving", size=12, anchor="start", weight="bold")
    chart.text(LEFT, 206, "Counters: open and advised", size=12, anchor="start", weight="bold")
    most_arrivals, most_counters = max(arrivals) or 1, max(counters) or 1
    for i, hour in enumerate(shown):
        x = LEFT + i * slot
        value = hours.get(hour, {}).get("arrivals_per_day")
        h = top_h * (value or 0) / most_arrivals
        chart.rect(x + 3, top_base - h, slot - 6, h, LIGHT)
        chart.text(x + slot / 2, top_base - h - 3, num(value), size=10)
        advised = advice.get(hour, {})
        half = (slot - 8) / 2
        for k, (value, fill, text) in enumerate(
            (
                (advised.get("open"), SOLID, num(advised.get("open"))),
                (advised.get("advised"), chart.hatched, str(advised.get("advised", NOBODY))),
            )
        ):
            h = low_h * (value or 0) / most_counters
            bx = x + 4 + k * half
            chart.rect(bx, low_base - h, half, h, fill)
            chart.text(bx + half / 2, low_base - h - 3, text, size=9)
        chart.text(x + slot / 2, low_base + 14, f"{hour}:00", size=10)
    chart.line(LEFT, top_base, WIDTH - RIGHT, top_base)
    chart.line(LEFT, low_base, WIDTH - RIGHT, low_base)
    chart.legend(
        height - 14,
        [
            (LIGHT, "arrivals per day"),
            (SOLID, "counters open"),
            (chart.hatched, "counters advised (Erlang C)"),
        ],
    )
    return chart


CHARTS: dict[str, Callable[[Report], Chart]] = {
    "wait": wait_distribution,
    "service-level": service_level_by_day,
    "weekday-hour": weekday_hour_arrivals,
    "weekday-hour-wait": weekday_hour_waits,
    "arrivals-counters": arrivals_and_counters,
}
"""Every chart by the name its address uses: ``/api/reports/charts/{chart}.svg``."""
TITLES = {
    "wait": "Wait distribution against each service's target",
    "service-level": "Called within target, by day",
    "weekday-hour": "Arrivals by weekday and hour",
    "weekday-hour-wait": "Mean wait by weekday and hour",
    "arrivals-counters": "Arrivals and counters by hour",
}
"""Short names for a link or an image's alternative text."""


def chart(name: str, report: Report) -> ET.Element:
    """The named chart of ``report`` as an SVG element (KeyError for an unknown name)."""
    return CHARTS[name](report).root


def svg_text(name: str, report: Report) -> str:
    """The named chart as a standalone SVG document."""
    return ET.tostring(chart(name, report), encoding="unicode")
