"""A morning built by hand: every report figure, worked out by hand in the comments, must come
out of the real server exactly so (docs/measures.md defines each one)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from lobby import protocol as p
from lobby.cli import main
from server.keys import OFFICE
from server.reports import stats
from server.reports.figures import DaySummary, cache_key, keep_settled_days
from tests.conftest import CONFIG_PATH, FakeClock, RunningServer, visitor
from tests.test_pages import token_of

DAY = {"from": "2026-11-02", "to": "2026-11-02"}


async def hand_built_morning(server: RunningServer, clock: FakeClock) -> dict[str, Any]:
    """The test office (w1: permits, billing; w2 and w3 stay closed), from 09:00."""
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    supervisor = await server.staff("super")

    def at(minutes: float) -> None:  # move the office clock to 09:00 + minutes
        clock.now = clock.now.replace(hour=9, minute=0, second=0) + timedelta(minutes=minutes)

    await clerk.counter_action("w1", "open")  # 09:00
    a = await kiosk.check_in(visitor("day-a-0001"))  # P-001, quoted 0-2 (point 0): w1 is free
    clock.advance(seconds=4)
    await kiosk.acknowledged(a.id, "printed", clock.now)
    at(2)
    assert (await clerk.call_next("w1")).id == a.id  # waited 2
    at(3)
    await clerk.ticket_action(a.id, "start")
    at(4)
    b = await kiosk.check_in(visitor("day-b-0001"))  # P-002, quoted 2-13 (point 7.5)
    clock.advance(seconds=10)
    await kiosk.acknowledged(b.id, "screen", clock.now)
    at(5)
    d = await kiosk.check_in(visitor("day-d-0001", "records"))  # R-001; nobody serves records
    at(9)
    await clerk.ticket_action(a.id, "complete", p.CompleteRequest(needs_met=True))
    at(10)
    assert (await clerk.call_next("w1")).id == b.id  # waited 6
    at(11)
    await clerk.ticket_action(b.id, "recall")
    at(12)
    await clerk.ticket_action(b.id, "start")
    at(15)
    await clerk.ticket_action(b.id, "transfer", p.TransferRequest(service="billing"))
    at(16)
    assert (await clerk.call_next("w1")).id == b.id  # the billing leg
    at(17)
    await clerk.ticket_action(b.id, "start")
    at(20)
    e = await kiosk.check_in(visitor("day-e-0001"))  # P-003, quoted 0-7 (point 1.25)
    clock.advance(seconds=5)
    await kiosk.acknowledged(e.id, "printed", clock.now)
    at(21)
    await clerk.ticket_action(b.id, "complete", p.CompleteRequest(needs_met=False))
    at(22)
    assert (await clerk.call_next("w1")).id == e.id  # waited 2
    await clerk.ticket_action(e.id, "flag", p.FlagRequest(reason="Visitor was upset"))
    at(25)
    await clerk.ticket_action(e.id, "no-show")
    at(26)
    await kiosk.check_in(visitor("day-f-0001"))  # P-004, never called
    at(28)
    await clerk.counter_action("w1", "close")
    at(30)
    await clerk.ticket_action(d.id, "cancel")  # R-001 leaves after 25 minutes
    await server.client().request(
        "POST", f"/status/{token_of(a)}/survey", p.SurveyRequest(needs_met=True, rating=4)
    )
    at(40)
    await supervisor.request("POST", "/api/day/close")  # P-004 closed after 14 minutes
    report: dict[str, Any] = await supervisor.request("GET", "/api/reports/summary", params=DAY)
    return report


async def csv_download(server: RunningServer, token: str | None, by: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/api/reports/summary.csv",
            params={**DAY, "by": by},
            headers={"Authorization": f"Bearer {token}"},
        ) as answer,
    ):
        assert answer.status == 200
        assert answer.headers["Content-Disposition"].startswith("attachment")
        return await answer.text()


def level(met: int, counted: int, rate: float | None) -> dict:
    """A service level block; below the 80 % goal is marked."""
    below = rate is not None and rate < 0.8
    return {"met": met, "counted": counted, "rate": rate, "below_goal": below}


def dist(count: int, mean: float | None, median: float | None, p90: float | None) -> dict:
    return {"count": count, "mean": mean, "median": median, "p90": p90}


async def test_every_figure_of_a_hand_built_morning(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    report = await hand_built_morning(server, clock)
    overall = report["overall"]
    assert overall["check_ins"] == 5 and overall["called"] == 3
    assert overall["outcomes"] == {
        "done": 2,
        "no_show": 1,
        "walkaway": 1,
        "closed_at_end_of_day": 1,
        "waiting": 0,
        "called": 0,
        "serving": 0,
    }
    # waits of the 3 called: 2, 6, 2 -> sorted 2, 2, 6; median rank ceil(1.5) = 2 -> 2,
    # p90 rank ceil(2.7) = 3 -> 6
    assert overall["wait_min"] == dist(3, 3.33, 2.0, 6.0)
    # never called: R-001 left after 25, P-004 closed after 14 -> median rank 1, p90 rank 2
    assert overall["waited_before_leaving_min"] == dist(2, 19.5, 14.0, 25.0)
    # permits held to 10 min: P-001, P-002, P-003 met; P-004 closed unseen is a miss;
    # records held to 15: R-001 left after 25, a miss
    assert overall["service_level"] == level(3, 5, 0.6)
    assert overall["needs_met_rate"] == 0.5 and overall["needs_met_answered"] == 2
    assert overall["no_show_rate"] == 0.3333  # 1 of 3 called
    assert overall["walkaway_rate"] == 0.2  # 1 of 5
    assert overall["transfers"] == 1
    # per serving leg, its first call to serving: P-001 1, P-002 permits 2 (recall inside),
    # P-002 billing 1
    assert overall["call_to_counter_min"] == dist(3, 1.33, 1.0, 2.0)
    # per leg: P-001 6, P-002 permits 3 (09:12-09:15), P-002 billing 4 (09:17-09:21)
    assert overall["service_time_min"] == dist(3, 4.33, 4.0, 6.0)
    # per done visit, its legs added: P-001 6, P-002 3 + 4 = 7
    assert overall["counter_time_min"] == dist(2, 6.5, 6.0, 7.0)
    assert overall["acknowledgement_sec"] == dist(3, 6.33, 5.0, 10.0)  # 4, 10, 5
    assert overall["acknowledged_via"] == {"printed": 2, "screen": 1}
    # quotes (docs/design.md, "Estimate"): no service has five visits yet, so 8 min a permits
    # visit, 4 a billing one, spread 0.5; the point is the forecast call x 1.25, the range
    # from call - 1 spread to point + 1.2 spreads (spread = 0.5 x 8 x sqrt(depth)).
    # P-001: w1 free: call 0, depth 0 -> 0-2, point 0.
    # P-002: w1 called P-001 2 min ago, 6 of 8 left: call 6, depth 1, spread 4 -> 2-13, 7.5.
    # P-003: w1's billing leg has run its 4 min, a quarter of them left: call 1, depth 1
    # -> 0-7, point 1.25.
    # Against waits: P-001 0 vs 2 (-2, inside 0-2), P-002 7.5 vs 6 (+1.5, inside 2-13),
    # P-003 1.25 vs 2 (-0.75, inside 0-7); widths 2, 11, 7
    assert overall["estimate_error"] == {
        "count": 3,
        "mean_abs_error_min": 1.42,
        "bias_min": -0.42,
        "within_5_min": 1.0,
        "range_inside": 1.0,
        "range_below": 0.0,
        "range_above": 0.0,
        "mean_range_width_min": 6.67,
    }
    assert overall["survey"] == {"answers": 1, "needs_met_rate": 1.0, "mean_rating": 4.0}

    permits, billing, records = (report["services"][s] for s in ("permits", "billing", "records"))
    assert (permits["check_ins"], billing["check_ins"], records["check_ins"]) == (4, 0, 1)
    assert permits["service_level"] == level(3, 4, 0.75)
    assert records["service_level"] == level(0, 1, 0.0)
    assert billing["service_level"] == level(0, 0, None)
    # each leg under the service that served it: the transfer is permits'
    assert (permits["transfers"], billing["transfers"]) == (1, 0)
    assert permits["service_time_min"] == dist(2, 4.5, 3.0, 6.0)
    assert billing["service_time_min"] == dist(1, 4.0, 4.0, 4.0)
    assert billing["call_to_counter_min"] == dist(1, 1.0, 1.0, 1.0)
    assert permits["counter_time_min"] == dist(2, 6.5, 6.0, 7.0)  # under the check-in service
    assert records["waited_before_leaving_min"] == dist(1, 25.0, 25.0, 25.0)

    # w1 idle with someone it serves waiting: 09:00-09:02, 09:09-09:10, 09:15-09:16,
    # 09:21-09:22, 09:26-09:28 = 120 + 60 + 60 + 60 + 120
    w1 = report["counters"]["w1"]
    assert w1["idle_while_waiting_sec"] == 420.0
    assert report["counters"]["w2"]["idle_while_waiting_sec"] == 0.0
    assert (w1["calls"], w1["served"], w1["done"], w1["no_shows"], w1["transfers"]) == (
        4,
        3,
        2,
        1,
        1,
    )
    clerk = report["staff"]["clerk"]
    assert clerk["needs_met_rate"] == 0.5 and clerk["service_time_mean_min"] == 4.33
    assert clerk["idle_while_waiting_sec"] == 420.0
    assert report["closed_at_end_of_day"] == ["P-004"]
    assert [d["number"] for d in report["debrief"]] == ["P-003"]
    assert report["days"] == [
        {
            "day": "2026-11-02",
            "check_ins": 5,
            "wait_mean_min": 3.33,
            "service_level": level(3, 5, 0.6),
        }
    ]
    nine = next(h for h in report["hours"] if h["hour"] == 9)
    assert nine["check_ins"] == 5
    assert nine["counters_open"] == 0.47  # w1 staffed 09:00-09:28: 28 of 60 minutes
    assert report["months"] == [
        {
            "month": "2026-11",
            "check_ins": 5,
            "wait_mean_min": 3.33,
            "service_level": level(3, 5, 0.6),
        }
    ]
    assert report["weekday_hour"] == [
        {
            "weekday": "Mon",
            "hour": 9,
            "check_ins": 5,
            "arrivals_per_day": 5.0,
            "wait_mean_min": 3.33,
        }
    ]
    assert overall["still_open"] == 0
    # permits' waits 2, 6, 2 against its 10 min target: bins 2 min wide (the widest putting the
    # target on an edge at least 3 bins in), to 30 min, then one for longer waits
    bins = permits["wait_bins"]
    assert len(bins) == 16 and bins[-1] == {
        "from_min": 30,
        "to_min": None,
        "count": 0,
        "share": 0.0,
        "within_target": False,
    }
    assert [(b["from_min"], b["to_min"], b["count"]) for b in bins[:4]] == [
        (0, 2, 2),  # 0 up to and including 2
        (2, 4, 0),
        (4, 6, 1),
        (6, 8, 0),
    ]
    assert bins[0]["share"] == 0.6667 and bins[2]["share"] == 0.3333
    assert [b["within_target"] for b in bins[4:6]] == [True, False]  # 8-10 within, 10-12 not
    # records (target 15): 5 min bins; nobody was called, so every bin is empty
    assert [b["to_min"] for b in records["wait_bins"]][:3] == [5, 10, 15]
    assert {b["count"] for b in records["wait_bins"]} == {0}
    assert records["wait_bins"][0]["share"] is None

    # a period with a day nobody came (Sunday 1 November): per open day means the Monday only
    supervisor = await server.staff("super")
    both = await supervisor.request(
        "GET", "/api/reports/summary", params={"from": "2026-11-01", "to": "2026-11-02"}
    )
    assert both["open_days"] == 1 and [d["day"] for d in both["days"]] == ["2026-11-02"]
    assert next(h for h in both["hours"] if h["hour"] == 9)["arrivals_per_day"] == 5.0


async def test_the_same_figures_after_a_restart_and_from_the_kept_summary(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    live = await hand_built_morning(server, clock)
    await server.restart()
    clock.advance(days=1)
    supervisor = await server.staff("super")
    await server.kiosk().check_in(visitor("day-next-01"))  # the log moves on: the day settles
    settled = await supervisor.request("GET", "/api/reports/summary", params=DAY)
    kept = await supervisor.request("GET", "/api/reports/summary", params=DAY)
    for report in (settled, kept):
        assert report["overall"] == live["overall"]
        assert report["services"] == live["services"]
        assert report["counters"] == live["counters"]


def test_nearest_rank_percentiles_on_small_samples() -> None:
    for n in range(1, 13):
        values = [float(v * v) for v in range(n)]  # distinct, increasing
        for share in (50, 90):
            chosen = stats.nearest_rank(values, share)
            # the smallest value with at least p % of the values at or below it
            expected = next(v for v in values if 100 * sum(w <= v for w in values) >= share * n)
            assert chosen == expected, (n, share)
            buckets = [(int(v * 100), 1) for v in values]
            assert stats.histogram_percentile(buckets, share) == expected
    waits = [0.0, 0.0, 1.0, 4.0, 8.0, 11.0]
    assert stats.nearest_rank(waits, 90) == 11.0, "one visitor in six waited 11"
    assert stats.nearest_rank([3.0, 7.0], 50) == 3.0


async def test_check_ins_go_on_while_a_long_report_runs(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, _ = clocked_server
    kiosk, supervisor = server.kiosk(), await server.staff("super")
    await kiosk.check_in(visitor("long-0001"))
    # some 3,000 office days, each summarised from its records: seconds of work
    long_report = asyncio.create_task(
        supervisor.request(
            "GET", "/api/reports/summary", params={"from": "2018-11-02", "to": "2026-11-02"}
        )
    )
    await asyncio.sleep(0.05)
    for n in range(5):
        await kiosk.check_in(visitor(f"long-{n + 2:04d}"))
    assert not long_report.done(), "every check-in was answered while the report still ran"
    report = await long_report
    assert report["overall"]["check_ins"] >= 1


async def test_the_command_line_prints_the_pages_figures(
    clocked_server: tuple[RunningServer, FakeClock],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, clock = clocked_server
    web = await hand_built_morning(server, clock)
    supervisor = await server.staff("super")
    base = ["report", "--db", str(server.db), "--config", str(CONFIG_PATH)]
    period = ["--from", DAY["from"], "--to", DAY["to"]]
    capsys.readouterr()
    assert await asyncio.to_thread(main, [*base, *period, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed.pop("as_of") and web.pop("as_of")
    assert printed == web

    for by in ("service", "counter", "staff", "day", "hour"):
        csv_file = tmp_path / f"by-{by}.csv"
        assert (
            await asyncio.to_thread(main, [*base, *period, "--by", by, "--csv", str(csv_file)]) == 0
        )
        table = capsys.readouterr().out
        assert table.startswith(f"Test City Hall · 2026-11-02 · by {by}")
        downloaded = await csv_download(server, supervisor.token, by)
        assert csv_file.read_bytes().decode("utf-8") == downloaded
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert rows[0]["hour"] == "9" and rows[0]["check_ins"] == "5"
    services = list(csv.DictReader((tmp_path / "by-service.csv").open(encoding="utf-8")))
    assert [r["service_id"] for r in services] == ["permits", "billing", "records", "all"]
    assert services[0]["wait_p90_min"] == "6.0" and services[0]["transfers"] == "1"
    staff = (tmp_path / "by-staff.csv").read_text(encoding="utf-8").splitlines()
    assert staff[0].split(",")[0] == "staff" and staff[1].startswith("clerk,")

    # the printable report as one file: the page the server serves, its stylesheet inside
    html_file = tmp_path / "report.html"
    assert await asyncio.to_thread(main, [*base, *period, "--html", str(html_file)]) == 0
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/supervisor/report",
            params={**DAY, "token": supervisor.token or ""},
        ) as answer,
    ):
        served = await answer.text()

    def figures_of(page: str) -> str:  # without the stylesheet and the "as of" line
        page = re.sub(r"<style>.*?</style>|<link [^>]*>", "", page, flags=re.S)
        return re.sub(r'<p class="meta">.*?</p>', "", page)

    written = html_file.read_text(encoding="utf-8")
    assert "<style>" in written and "@media print" in written and "<script" not in written
    assert "Daily report: Monday 2 November 2026" in written
    assert figures_of(written) == figures_of(served)

    assert main([*base, "--from", "2026-11-03", "--to", "2026-11-02"]) == 2
    assert "'to' is before 'from'" in capsys.readouterr().err


async def test_housekeeping_summarises_settled_days_ahead_of_the_first_report(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    live = await hand_built_morning(server, clock)
    office = server.app[OFFICE]
    key = cache_key(office.config)

    def waiting() -> list[str]:
        with office.store.records() as reader:
            return reader.unsummarised_days(key)

    assert waiting() == [], "the day is not settled while the log is still on it"
    supervisor = await server.staff("super")
    clock.advance(days=1)
    await server.kiosk().check_in(visitor("day-next-01"))  # the log moves on: the day settles
    await supervisor.request("POST", "/api/day/close")
    clock.advance(days=1)
    await server.kiosk().check_in(visitor("day-next-02"))
    assert waiting() == ["2026-11-03", "2026-11-02"]  # newest first; today never settles
    # a round with no time to spare still summarises one day, the newest
    assert keep_settled_days(office.store, office.config, office.now(), budget_sec=0) == 1
    assert waiting() == ["2026-11-02"]
    await office.housekeep()
    assert waiting() == []
    with office.store.records() as reader:
        kept = reader.cached(key, {"2026-11-02"})
    assert msgspec.msgpack.decode(kept["2026-11-02"], type=DaySummary).visits["day"]
    again = await supervisor.request("GET", "/api/reports/summary", params=DAY)
    assert again["overall"] == live["overall"] and again["staff"] == live["staff"]
