"""The report's charts: well-formed SVG from the server, each carrying the figures of the
report it draws (the hand-built morning of tests/test_report_day.py, worked out there), black
and white safe (hatching, not colour alone) and with its text alternative."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp

from server.config import load_config
from server.reports.charts import CHARTS, MAX_DAY_BARS, svg_text
from server.reports.figures import report
from server.reports.records import counter_layout
from server.store.sqlite import SqliteStore
from tests.conftest import FakeClock, RunningServer
from tests.sample_month import build_month
from tests.test_report_day import DAY, hand_built_morning

NS = "{http://www.w3.org/2000/svg}"
DEMO = load_config(Path(__file__).parent.parent / "examples" / "demo.toml")


async def fetch(server: RunningServer, token: str | None, path: str, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}{path}", params=params, headers=headers) as answer,
    ):
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{NS}text")]


def hatched(svg: ET.Element) -> int:
    """How many shapes are filled with the chart's hatching (the legend's swatch included)."""
    return sum(1 for r in svg.iter(f"{NS}rect") if (r.get("fill") or "").startswith("url(#"))


async def test_each_chart_draws_the_mornings_figures(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    figures = await hand_built_morning(server, clock)
    supervisor = await server.staff("super")
    charts = {}
    for name in CHARTS:
        status, kind, body = await fetch(
            server, supervisor.token, f"/api/reports/charts/{name}.svg", **DAY
        )
        assert status == 200 and kind.startswith("image/svg+xml"), (name, status, body)
        svg = ET.fromstring(body)
        assert svg.tag == f"{NS}svg"
        title, desc = svg.find(f"{NS}title"), svg.find(f"{NS}desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert svg.get("role") == "img" and svg.get("aria-labelledby") == (
            f"{name}-title {name}-desc"
        )
        charts[name] = svg

    # waits of the called: permits 2, 6, 2 in its 2-minute bins; billing and records nobody
    wait = charts["wait"]
    desc = wait.findtext(f"{NS}desc") or ""
    assert "Permits and Licensing (target 10 min, 3 called): 0–2 min: 2; 4–6 min: 1." in desc
    assert "Vital Records (target 15 min, 0 called): nobody called." in desc
    words = texts(wait)
    assert (
        "Permits and Licensing · target 10 min · 3 called · called within target 75%"
        + (" (3 of 4)")
        in words
    )
    assert words.count("Nobody was called in this period.") == 2  # billing and records
    assert hatched(wait) == 1, "nobody called waited past the target: only the legend's swatch"

    # one day at 60 %, below the 80 % goal: its bar is hatched
    level = charts["service-level"]
    assert "Mon 02 Nov 2026: 60% (3 of 5)" in (level.findtext(f"{NS}desc") or "")
    assert "60" in texts(level) and hatched(level) == 2
    assert figures["days"][0]["service_level"]["below_goal"] is True

    heat = charts["weekday-hour"]
    assert heat.findtext(f"{NS}desc") == "Mon 9:00 5.0"
    assert {"Mon", "9:00", "5.0"} <= set(texts(heat))

    # 9:00: five arrivals; w1 staffed 28 of 60 minutes (0.47); advised: permits 1, records 1
    nine = next(h for h in figures["staffing"]["hours"] if h["hour"] == 9)
    assert nine["advised"] == 2 and nine["by_service"] == {"permits": 1, "records": 1}
    hours = charts["arrivals-counters"]
    assert hours.findtext(f"{NS}desc") == "9:00 arrivals per day 5.0, counters open 0.5, advised 2"
    assert {"5.0", "0.5", "2", "9:00"} <= set(texts(hours))


async def test_charts_are_for_supervisors_and_say_what_is_wrong(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, _ = clocked_server
    path = "/api/reports/charts/wait.svg"
    assert (await fetch(server, None, path))[0] == 401
    clerk, supervisor = await server.staff("clerk"), await server.staff("super")
    assert (await fetch(server, clerk.token, path))[0] == 403
    status, kind, body = await fetch(server, supervisor.token, "/api/reports/charts/pie.svg")
    assert status == 404 and kind.startswith("application/json") and "wait" in body
    status, _, body = await fetch(
        server, supervisor.token, path, **{"from": "2026-11-03", "to": "2026-11-02"}
    )
    assert status == 422 and "'to' is before 'from'" in body


async def test_names_are_written_as_text_never_as_markup(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    figures = await hand_built_morning(server, clock)
    figures["services"]["permits"]["name"] = 'Permits & <script>alert("x")</script>'
    svg = ET.fromstring(svg_text("wait", figures))
    assert not list(svg.iter("script")) and not list(svg.iter(f"{NS}script"))
    assert any('Permits & <script>alert("x")</script>' in t for t in texts(svg))


async def test_a_long_period_draws_service_level_by_month(tmp_path: Path) -> None:
    db = tmp_path / "months.db"
    months = (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1))
    await asyncio.to_thread(build_month, db, DEMO, *months)
    now = datetime(2026, 11, 2, 9, 0, tzinfo=DEMO.tz)
    store = SqliteStore(db, layout=counter_layout(DEMO))
    figures = await asyncio.to_thread(
        report, store, DEMO, date(2026, 8, 1), date(2026, 10, 31), now
    )
    assert len(figures["days"]) > MAX_DAY_BARS and len(figures["months"]) == 3
    svg = ET.fromstring(svg_text("service-level", figures))
    assert svg.findtext(f"{NS}title") == "Called within target, by month (goal 80%)"
    desc = svg.findtext(f"{NS}desc") or ""
    for row, words in zip(figures["months"], ("August", "September", "October"), strict=True):
        level = row["service_level"]
        assert f"{words} 2026: " in desc and f"({level['met']} of {level['counted']})" in desc
    assert {"Aug", "Sep", "Oct"} <= set(texts(svg))
