"""The printable report (``/supervisor/report?from=&to=``): one HTML document made here from
the report, with its charts inline, for a supervisor to print or save as PDF from the browser.

It carries no script: every figure on it is one the report function computed, written with
``server/reports/formats.py``. The definitions at its end are the short forms of
docs/measures.md, which holds the full ones.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from importlib import resources
from typing import Any

from server.reports import charts
from server.reports.formats import NOBODY, minutes, num, pct, seconds, signed
from server.reports.staffing import GOAL

Report = Mapping[str, Any]
STYLESHEET = "/supervisor/assets/report.css"
DEFINITIONS = (
    (
        "Period",
        "Office days in the office's time zone. A visit belongs to the day it arrived, with all"
        " its serving legs, and is followed to its outcome.",
    ),
    (
        "Wait",
        "Arrival to the first call, for visitors called at least once (no-shows included). A"
        " transfer does not restart it.",
    ),
    (
        "Waited before leaving",
        "Arrival to the end, for visitors never called: those who left and those closed at end"
        " of day.",
    ),
    (
        "Median, 90% within",
        "Nearest rank: the smallest value with at least half (or 90%) of the values at or"
        " below it. Always a wait somebody lived.",
    ),
    (
        "Called within target",
        "Visits called within their service's target wait, of those counted: every visit"
        " called, plus those never called except visitors who left, or are still waiting,"
        " before the target passed. A visit closed at end of day counts as a miss.",
    ),
    (
        "Idle while waiting",
        "Time a counter stood open and idle while someone it serves waited: the \u201cassist"
        " immediately\u201d breach, filed under the staff member signed in.",
    ),
    (
        "Needs met",
        "At the counter: \u201cyes\u201d of \u201cyes\u201d and \u201cno\u201d answers when the"
        " visit was completed. Visitors: their own answer on their status page.",
    ),
    ("No-shows", "No-shows divided by visitors called."),
    ("Walkaways", "Visitors who left before being called, divided by all check-ins."),
    (
        "Wait inside the range shown",
        "The share of called visitors whose wait fell inside the range the kiosk showed them"
        " (sooner: below it; later: above it). The point error is the quoted point minus the"
        " wait.",
    ),
    (
        "Service time, counter time",
        "Service time: serving started to the end of one serving leg, under the service that"
        " served it. Counter time: a done visit's legs added up. Shown as context, never"
        " scored or ranked.",
    ),
    (
        "Emergencies and drills",
        "A visitor still waiting for the first call when an emergency or a drill began waited"
        " through it (calling pauses): that wait is reported apart, and left out of the wait,"
        " the called-within-target share and the range shown. Each emergency is listed with its"
        " length and the time until every expected screen said it showed it.",
    ),
    (
        "Counters open, advised",
        "Open: counter-hours staffed in that hour, per open day. Advised: what the Erlang C"
        f" queueing model says each service needs for {pct(GOAL)} of its visitors to be called"
        " within target, added up over the services. Advice, not a measure.",
    ),
)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element; ``class_`` and ``aria_label`` stand for ``class`` and ``aria-label``."""
    names = {key: key.rstrip("_").replace("_", "-") for key in attrs}
    node = ET.SubElement(parent, tag, {names[k]: v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def _table(
    parent: ET.Element,
    table_id: str,
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    caption: str | None = None,
) -> ET.Element:
    """A table whose first column names the row and whose other columns are figures."""
    table = _add(parent, "table", id=table_id, class_="figures-table")
    if caption:
        _add(table, "caption", caption)
    tr = _add(_add(table, "thead"), "tr")
    for i, words in enumerate(head):
        _add(tr, "th", words, scope="col", **({"class_": "num"} if i else {}))
    body = _add(table, "tbody")
    for row in rows:
        tr = _add(body, "tr")
        for i, cell in enumerate(row):
            if i:
                _add(tr, "td", cell, class_="num")
            else:
                _add(tr, "th", cell, scope="row")
    return table


def _long_day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.day} {day:%B %Y}"


def period_words(report: Report) -> tuple[str, str]:
    """The report's kind ("Monthly report" for one calendar month) and its period in words."""
    first, last = date.fromisoformat(report["first_day"]), date.fromisoformat(report["last_day"])
    following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    if (
        first.day == 1
        and (following - last).days == 1
        and (first.year, first.month)
        == (
            last.year,
            last.month,
        )
    ):
        return "Monthly report", f"{first:%B %Y}"
    if first == last:
        return "Daily report", f"{first:%A} {_long_day(report['first_day'])}"
    return "Report", f"{_long_day(report['first_day'])} to {_long_day(report['last_day'])}"


def _as_of(report: Report) -> str:
    moment = datetime.fromisoformat(report["as_of"])
    return f"{moment.day} {moment:%B %Y}, {moment:%H:%M}"


def _card(parent: ET.Element, label: str, value: str, detail: str) -> None:
    card = _add(parent, "div", class_="card")
    _add(card, "dt", label)
    _add(card, "dd", value, class_="value")
    _add(card, "dd", detail, class_="detail")


def key_figures(parent: ET.Element, all_: Mapping[str, Any]) -> None:
    outcomes, waits = all_["outcomes"], all_["wait_min"]
    left, level = all_["waited_before_leaving_min"], all_["service_level"]
    est, survey, ack = all_["estimate_error"], all_["survey"], all_["acknowledgement_sec"]
    grid = _add(parent, "dl", class_="cards", id="key-figures")
    _card(
        grid,
        "Check-ins",
        str(all_["check_ins"]),
        f"{outcomes['done']} served · {outcomes['no_show']} no-show · {outcomes['walkaway']}"
        f" left · {outcomes['closed_at_end_of_day']} closed at end of day"
        + (f" · {all_['still_open']} still open" if all_["still_open"] else ""),
    )
    _card(
        grid,
        "Wait (arrival to call)",
        minutes(waits["mean"]),
        f"of {waits['count']} called · median {num(waits['median'])} · 90% within"
        f" {num(waits['p90'])} min"
        if waits["count"]
        else "nobody called",
    )
    _card(
        grid,
        "Waited before leaving",
        minutes(left["mean"]),
        f"of {left['count']} never called · 90% within {num(left['p90'])} min"
        if left["count"]
        else "nobody left uncalled",
    )
    _card(
        grid,
        "Called within target",
        pct(level["rate"]),
        f"{level['met']} of {level['counted']} visits · goal {pct(GOAL)}"
        if level["counted"]
        else "no visit counted",
    )
    _card(
        grid,
        "Needs met (counter)",
        pct(all_["needs_met_rate"]),
        f"of {all_['needs_met_answered']} answered at the counter",
    )
    _card(
        grid,
        "Needs met (visitors)",
        pct(survey["needs_met_rate"]),
        f"{survey['answers']} answered on their status page"
        + (f" · rating {num(survey['mean_rating'])}/5" if survey["mean_rating"] else ""),
    )
    _card(grid, "No-shows", pct(all_["no_show_rate"]), "of visitors called")
    _card(grid, "Walkaways", pct(all_["walkaway_rate"]), "of check-ins")
    _card(grid, "Transfers", str(all_["transfers"]), "referred to another service")
    _card(
        grid,
        "Wait inside the range shown",
        pct(est["range_inside"]),
        f"of {est['count']} called · {pct(est['range_below'])} sooner ·"
        f" {pct(est['range_above'])} later · point {num(est['mean_abs_error_min'])} min off"
        f" (bias {signed(est['bias_min'])})"
        if est["count"]
        else "no estimate to compare",
    )
    _card(
        grid,
        "Acknowledgement",
        NOBODY if ack["mean"] is None else f"{num(ack['mean'])} s",
        f"printed {all_['acknowledged_via']['printed']} · on screen"
        f" {all_['acknowledged_via']['screen']}",
    )
    service = all_["service_time_min"]
    _card(
        grid,
        "Service time",
        minutes(service["mean"]),
        f"median {num(service['median'])} min · shown, not scored",
    )


def _level(level: Mapping[str, Any]) -> str:
    if not level["counted"]:
        return NOBODY
    return f"{pct(level['rate'])} ({level['met']}/{level['counted']})"


def _left(waits: Mapping[str, Any]) -> str:
    if not waits["count"]:
        return "0"
    return f"{waits['count']} (mean {minutes(waits['mean'])})"


def breakdowns(parent: ET.Element, report: Report) -> None:
    services = report["services"].values()
    section = _add(parent, "section", class_="block", id="by-service")
    _add(section, "h2", "By service")
    _table(
        section,
        "report-services",
        (
            "Service",
            "Target",
            "Check-ins",
            "Called",
            "Wait mean",
            "Median",
            "90% within",
            "Within target",
            "Waited before leaving",
            "Closed at end of day",
        ),
        [
            (
                s["name"],
                f"{s['target_wait_min']:g} min",
                str(s["check_ins"]),
                str(s["called"]),
                num(s["wait_min"]["mean"]),
                num(s["wait_min"]["median"]),
                num(s["wait_min"]["p90"]),
                _level(s["service_level"]),
                _left(s["waited_before_leaving_min"]),
                str(s["outcomes"]["closed_at_end_of_day"]),
            )
            for s in services
        ],
        "Minutes. Wait runs from arrival to the first call; waited before leaving counts the"
        " visitors never called and their mean time in line.",
    )
    _table(
        section,
        "report-outcomes",
        (
            "Service",
            "Needs met",
            "Visitors say met",
            "No-show",
            "Walkaway",
            "Transfers",
            "Inside range shown",
            "Service time",
            "Counter time",
        ),
        [
            (
                s["name"],
                pct(s["needs_met_rate"]),
                pct(s["survey"]["needs_met_rate"]),
                pct(s["no_show_rate"]),
                pct(s["walkaway_rate"]),
                str(s["transfers"]),
                pct(s["estimate_error"]["range_inside"]),
                num(s["service_time_min"]["mean"]),
                num(s["counter_time_min"]["mean"]),
            )
            for s in services
        ],
        "Service time per serving leg, counter time per done visit (its legs added up), in"
        " minutes: shown, never scored.",
    )
    work_head = (
        "Calls",
        "Served",
        "Done",
        "No-shows",
        "Transfers",
        "Needs met",
        "Service time",
        "Idle while waiting",
    )

    def work(w: Mapping[str, Any]) -> list[str]:
        return [
            str(w["calls"]),
            str(w["served"]),
            str(w["done"]),
            str(w["no_shows"]),
            str(w["transfers"]),
            pct(w["needs_met_rate"]),
            num(w["service_time_mean_min"]),
            seconds(w["idle_while_waiting_sec"]),
        ]

    section = _add(parent, "section", class_="block", id="by-counter")
    _add(section, "h2", "By counter and staff member")
    _table(
        section,
        "report-counters",
        ("Counter", *work_head),
        [(c["name"], *work(c)) for c in report["counters"].values()],
    )
    _table(
        section,
        "report-staff",
        ("Staff member", *work_head),
        [(name, *work(w)) for name, w in report["staff"].items()],
        "In name order: volume and context, never a ranking. Service time in minutes.",
    )

    by_month = len(report["days"]) > charts.MAX_DAY_BARS
    section = _add(parent, "section", class_="block", id="by-day")
    _add(section, "h2", "By month" if by_month else "By day")
    _table(
        section,
        "report-days",
        ("Month" if by_month else "Day", "Check-ins", "Wait mean", "Within target"),
        [
            (
                charts.period_name(d, "month" if by_month else "day"),
                str(d["check_ins"]),
                num(d["wait_mean_min"]),
                _level(d["service_level"]),
            )
            for d in (report["months"] if by_month else report["days"])
        ],
    )

    staffing = report["staffing"]
    advised = {h["hour"]: h for h in staffing["hours"]}
    section = _add(parent, "section", class_="block", id="by-hour")
    _add(section, "h2", "By hour of day, with staffing advice")
    _table(
        section,
        "report-hours",
        (
            "Hour",
            "Check-ins",
            "Arrivals per day",
            "Wait mean",
            "Within target",
            "Counters open",
            "Counters advised",
            *(f"advised for {s['name']}" for s in report["services"].values()),
        ),
        [
            (
                f"{h['hour']}:00",
                str(h["check_ins"]),
                num(h["arrivals_per_day"]),
                num(h["wait_mean_min"]),
                _level(h["service_level"]),
                num(h["counters_open"]),
                str(advised.get(h["hour"], {}).get("advised", NOBODY)),
                *(
                    str(advised.get(h["hour"], {}).get("by_service", {}).get(sid, NOBODY))
                    for sid in report["services"]
                ),
            )
            for h in report["hours"]
        ],
    )
    _add(section, "p", "Staffing advice. " + staffing["assumptions"], class_="note")


def lists(parent: ET.Element, report: Report) -> None:
    section = _add(parent, "section", class_="block", id="lists")
    _add(section, "h2", "Closed at end of day, debrief, emergencies")
    closed = report["closed_at_end_of_day"]
    _add(
        section,
        "p",
        ("Closed at end of day: " + ", ".join(closed))
        if closed
        else "No visit was closed at end of day.",
        id="report-closed",
    )
    if report["debrief"]:
        items = _add(section, "ul", id="report-debrief")
        for d in report["debrief"]:
            moment = datetime.fromisoformat(d["at"])
            _add(items, "li", f"{d['number']} · {moment:%d %b %H:%M} · {d['reason']}")
    else:
        _add(section, "p", "No visit was flagged for a debrief.", id="report-debrief")
    emergencies(section, report)


def emergencies(parent: ET.Element, report: Report) -> None:
    """The period's emergencies and drills, and the waits they interrupted."""
    listed, during = report["emergencies"], report["overall"]["during_emergencies"]
    if not listed:
        _add(parent, "p", "No emergency or drill.", id="report-emergencies")
        return
    items = _add(parent, "ul", id="report-emergencies")
    for e in listed:
        moment = datetime.fromisoformat(e["started_at"])
        length = f"{num(e['minutes'])} min" if e["minutes"] is not None else "still on"
        screens = (
            f"every screen showed it within {num(e['all_screens_sec'])} s"
            if e["all_screens_sec"] is not None
            else f"{e['screens_acknowledged']} of {e['screens_expected']} screens acknowledged"
            + (f" (not: {', '.join(e['screens_missing'])})" if e["screens_missing"] else "")
        )
        what = "Drill" if e["drill"] else "Emergency"
        _add(items, "li", f"{what} · {e['kind']} · {moment:%d %b %H:%M} · {length} · {screens}")
    if during["visits"]:
        waits = during["wait_min"]
        _add(
            parent,
            "p",
            f"{during['visits']} visitors were waiting when one began (not held to the target):"
            f" wait {minutes(waits['mean'])}, 90% within {num(waits['p90'])} min",
            id="report-emergency-waits",
        )


def report_file(report: Report) -> str:
    """The printable document as one file to keep or send (``lobby report --html``): the
    stylesheet the server serves beside the page is written into it."""
    return report_page(report, (resources.files("server") / "web" / "report.css").read_text())


def report_page(report: Report, stylesheet: str | None = None) -> str:
    """The whole printable document, linking the served stylesheet unless given its text."""
    kind, period = period_words(report)
    html = ET.Element("html", {"lang": "en"})
    head = _add(html, "head")
    _add(head, "meta", charset="utf-8")
    _add(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    _add(head, "meta", name="robots", content="noindex, nofollow")
    _add(head, "title", f"{report['office']} · {kind} · {period}")
    if stylesheet is None:
        _add(head, "link", rel="stylesheet", href=STYLESHEET)
    else:
        _add(head, "style", stylesheet)
    body = _add(_add(html, "body"), "main", class_="report")
    top = _add(body, "header", class_="report-head")
    _add(top, "p", report["office"], class_="office", id="report-office")
    _add(top, "h1", f"{kind}: {period}", id="report-period")
    _add(
        top,
        "p",
        f"{report['open_days']} open days · times in {report['timezone']} · figures as of"
        f" {_as_of(report)}",
        class_="meta",
    )
    section = _add(body, "section", class_="block", id="summary")
    _add(section, "h2", "What visitors lived")
    key_figures(section, report["overall"])
    section = _add(body, "section", class_="block charts", id="charts")
    _add(section, "h2", "Charts")
    for name in ("wait", "service-level", "weekday-hour", "arrivals-counters"):
        figure = _add(section, "figure", class_="chart", id=f"chart-{name}")
        figure.append(charts.chart(name, report))
    breakdowns(body, report)
    lists(body, report)
    section = _add(body, "section", class_="block definitions", id="definitions")
    _add(section, "h2", "How each figure is counted")
    terms = _add(section, "dl")
    for term, meaning in DEFINITIONS:
        _add(terms, "dt", term)
        _add(terms, "dd", meaning)
    return "<!doctype html>\n" + ET.tostring(html, encoding="unicode", method="html")
