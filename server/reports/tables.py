"""A report's breakdowns as rows: for the CSV download, ``lobby report --csv`` and its text
table. The columns are documented in docs/measures.md ("CSV columns"); they only copy figures
of the report, never compute new ones.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

Row = list[Any]


def _service_row(key: str, name: str, s: dict[str, Any]) -> Row:
    est, level, survey = s["estimate_error"], s["service_level"], s["survey"]
    return [
        key,
        name,
        s.get("target_wait_min"),
        s["check_ins"],
        s["called"],
        s["wait_min"]["mean"],
        s["wait_min"]["median"],
        s["wait_min"]["p90"],
        s["waited_before_leaving_min"]["count"],
        s["waited_before_leaving_min"]["mean"],
        level["rate"],
        level["met"],
        level["counted"],
        s["needs_met_rate"],
        s["needs_met_answered"],
        survey["answers"],
        survey["needs_met_rate"],
        survey["mean_rating"],
        s["no_show_rate"],
        s["walkaway_rate"],
        s["transfers"],
        est["mean_abs_error_min"],
        est["bias_min"],
        est["within_5_min"],
        est["range_inside"],
        est["range_below"],
        est["range_above"],
        s["acknowledgement_sec"]["mean"],
        s["acknowledged_via"]["printed"],
        s["acknowledged_via"]["screen"],
        s["call_to_counter_min"]["mean"],
        s["service_time_min"]["mean"],
        s["service_time_min"]["median"],
        s["counter_time_min"]["mean"],
        s["outcomes"]["done"],
        s["outcomes"]["no_show"],
        s["outcomes"]["walkaway"],
        s["outcomes"]["closed_at_end_of_day"],
    ]


SERVICE_COLUMNS = [
    "service_id",
    "service",
    "target_wait_min",
    "check_ins",
    "called",
    "wait_mean_min",
    "wait_median_min",
    "wait_p90_min",
    "waited_before_leaving",
    "waited_before_leaving_mean_min",
    "service_level",
    "service_level_met",
    "service_level_counted",
    "needs_met_rate",
    "needs_met_answered",
    "survey_answers",
    "survey_needs_met_rate",
    "survey_mean_rating",
    "no_show_rate",
    "walkaway_rate",
    "transfers",
    "estimate_mae_min",
    "estimate_bias_min",
    "estimate_within_5_min",
    "estimate_range_inside",
    "estimate_range_below",
    "estimate_range_above",
    "acknowledgement_mean_sec",
    "acknowledged_printed",
    "acknowledged_screen",
    "call_to_counter_mean_min",
    "service_time_mean_min",
    "service_time_median_min",
    "counter_time_mean_min",
    "done",
    "no_show",
    "walkaway",
    "closed_at_end_of_day",
]
WORK_COLUMNS = [
    "calls",
    "served",
    "done",
    "no_shows",
    "transfers",
    "needs_met_rate",
    "needs_met_answered",
    "service_time_mean_min",
    "idle_while_waiting_sec",
]


def _work(figures: dict[str, Any]) -> Row:
    return [figures[c] for c in WORK_COLUMNS]


def _by_service(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    rows = [_service_row(k, s["name"], s) for k, s in report["services"].items()]
    rows.append(_service_row("all", "All services", report["overall"]))
    return SERVICE_COLUMNS, rows


def _by_counter(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    rows = [[k, c["name"], *_work(c)] for k, c in report["counters"].items()]
    return ["counter_id", "counter", *WORK_COLUMNS], rows


def _by_staff(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    """In name order: never ranked by how fast anyone works."""
    return ["staff", *WORK_COLUMNS], [[k, *_work(s)] for k, s in sorted(report["staff"].items())]


def _by_day(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    head = ["day", "check_ins", "wait_mean_min", "service_level", "service_level_met"]
    head.append("service_level_counted")
    rows = [
        [
            d["day"],
            d["check_ins"],
            d["wait_mean_min"],
            d["service_level"]["rate"],
            d["service_level"]["met"],
            d["service_level"]["counted"],
        ]
        for d in report["days"]
    ]
    return head, rows


def _by_hour(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    advised = {h["hour"]: h["advised"] for h in report["staffing"]["hours"]}
    head = [
        "hour",
        "check_ins",
        "arrivals_per_day",
        "wait_mean_min",
        "service_level",
        "service_time_mean_min",
        "counters_open",
        "counters_advised",
    ]
    rows = [
        [
            h["hour"],
            h["check_ins"],
            h["arrivals_per_day"],
            h["wait_mean_min"],
            h["service_level"]["rate"],
            h["service_time_mean_min"],
            h["counters_open"],
            advised.get(h["hour"]),
        ]
        for h in report["hours"]
    ]
    return head, rows


def _by_office(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    """Headquarters' report: each office's overall figures, then all offices together."""
    rows = [_service_row(k, o["name"], o) for k, o in report["offices"].items()]
    rows.append(_service_row("all", "All offices", report["overall"]))
    return ["office_id", "office", *SERVICE_COLUMNS[2:]], rows


BREAKDOWN: dict[str, Callable[[dict[str, Any]], tuple[list[str], list[Row]]]] = {
    "service": _by_service,
    "counter": _by_counter,
    "staff": _by_staff,
    "day": _by_day,
    "hour": _by_hour,
    "office": _by_office,
}


def breakdown(report: dict[str, Any], by: str) -> tuple[list[str], list[Row]]:
    """The header and rows of one breakdown (service, counter, staff, day, hour)."""
    return BREAKDOWN[by](report)


def _cell(value: Any) -> str:
    """Blank for "nobody to count"; a leading = + - @ is quoted so a spreadsheet never runs it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(header: Sequence[str], rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in r] for r in rows])
    return out.getvalue()


def text_table(header: Sequence[str], rows: Sequence[Row]) -> str:
    """Aligned columns for a terminal; '–' where there was nobody to count."""
    cells = [list(header)] + [["–" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def print_report(
    figures: dict[str, Any],
    title: str,
    first: date,
    last: date,
    by: str,
    csv_path: str | None,
    output: str,
) -> None:
    """``lobby report``'s output, for an office and for headquarters alike: one breakdown as
    an aligned table (or the whole report as JSON), and that breakdown as CSV when asked."""
    header, rows = breakdown(figures, by)
    if csv_path:
        Path(csv_path).write_text(csv_text(header, rows), encoding="utf-8")
    if output == "json":
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        period = first.isoformat() if first == last else f"{first} to {last}"
        print(f"{title} · {period} · by {by}\n")
        print(text_table(header, rows), end="")
