"""Supervisor figures match the definitions in docs/measures.md; every visit ends the same day."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta

import pytest

from lobby import protocol as p
from lobby.client import ApiError
from server.keys import OFFICE
from tests.conftest import FakeClock, RunningServer, visitor


async def test_a_scripted_morning_gives_the_defined_figures(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    supervisor = await server.staff("super")
    await clerk.counter_action("w1", "open")  # 09:00, idle from here
    served = await kiosk.check_in(visitor("r-served-1"))  # 09:00
    clock.advance(minutes=1)
    walked = await kiosk.check_in(visitor("r-walked-1", "billing"))  # 09:01
    clock.advance(minutes=1)
    late = await kiosk.check_in(visitor("r-late-01"))  # 09:02
    await kiosk.acknowledged(late.id, "screen")
    clock.advance(minutes=1)
    await clerk.ticket_action(walked.id, "cancel")  # left at 09:03, before billing's 5 min
    clock.advance(minutes=1)
    assert (await clerk.call_next("w1")).id == served.id  # 09:04: waited 4 min
    clock.advance(minutes=1)
    await clerk.ticket_action(served.id, "start")  # 09:05
    clock.advance(minutes=7)
    await clerk.ticket_action(served.id, "complete", p.CompleteRequest(needs_met=True))  # 09:12
    clock.advance(minutes=8)
    assert (await clerk.call_next("w1")).id == late.id  # 09:20: waited 18 min, over target
    await clerk.ticket_action(late.id, "no-show")

    report = await supervisor.request(
        "GET", "/api/reports/summary", params={"from": "2026-11-02", "to": "2026-11-02"}
    )
    permits = report["services"]["permits"]
    assert permits["check_ins"] == 2
    assert permits["wait_min"]["mean"] == 11.0  # (4 + 18) / 2
    assert permits["service_level"] == {"met": 1, "counted": 2, "rate": 0.5, "below_goal": True}
    assert permits["service_time_min"]["mean"] == 7.0
    assert permits["call_to_counter_min"]["mean"] == 1.0
    assert permits["needs_met_rate"] == 1.0
    assert permits["no_show_rate"] == 0.5
    billing = report["services"]["billing"]
    assert billing["walkaway_rate"] == 1.0
    assert billing["service_level"]["counted"] == 0, "left before the target: not counted"
    assert report["overall"]["check_ins"] == 3
    assert report["overall"]["acknowledged_via"] == {"printed": 0, "screen": 1}
    # w1 open and idle with a permits visitor waiting: 09:00-09:04 and 09:12-09:20
    assert report["counters"]["w1"]["idle_while_waiting_sec"] == 720.0
    assert report["counters"]["w2"]["idle_while_waiting_sec"] == 0.0
    estimate = permits["estimate_error"]
    assert estimate["count"] == 2 and estimate["mean_abs_error_min"] is not None

    other_day = await supervisor.request(
        "GET", "/api/reports/summary", params={"from": "2026-11-03", "to": "2026-11-30"}
    )
    assert other_day["overall"]["check_ins"] == 0


async def test_visits_left_open_are_closed_next_day_and_reported(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    await kiosk.check_in(visitor("r-open-1"))
    await kiosk.check_in(visitor("r-open-2"))
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    clock.advance(days=1)
    await server.app[OFFICE].housekeep()
    supervisor = await server.staff("super")
    assert (await supervisor.state()).tickets == []
    report = await supervisor.request("GET", "/api/reports/summary", params={"from": "2026-11-02"})
    assert report["closed_at_end_of_day"] == ["P-001", "P-002"]
    fresh = await kiosk.check_in(visitor("r-next-day"))
    assert fresh.number == "P-001", "numbers start again each day"


async def test_private_data_is_erased_after_the_retention_period(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    ticket = await kiosk.check_in(visitor("r-private", name="Amina Warsame", needs=["hearing"]))
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "start")
    await clerk.ticket_action(
        ticket.id, "complete", p.CompleteRequest(needs_met=True, notes="Amina's permit")
    )
    clock.advance(days=1)
    await kiosk.check_in(visitor("r-next-day"))  # the first event of the next day
    with pytest.raises(ApiError) as forgotten:
        await clerk.ticket(ticket.id)
    assert forgotten.value.status == 404, "a finished visit of an earlier day is left to the log"
    clock.advance(days=server.config.retention_days - 2)
    await server.app[OFFICE].housekeep()
    assert "Amina" in logged(server), "kept for the whole retention period"
    clock.advance(days=2)
    await server.app[OFFICE].housekeep()
    assert "Amina" not in logged(server) and "hearing" not in logged(server)
    supervisor = await server.staff("super")
    period = {"from": "2026-11-02", "to": "2026-11-02"}
    report = await supervisor.request("GET", "/api/reports/summary", params=period)
    assert report["overall"]["check_ins"] == 1, "the measures stay"
    assert report["overall"]["needs_met_rate"] == 1.0
    await server.restart()
    assert "Amina" not in logged(server) and "hearing" not in logged(server)
    again = await (await server.staff("super")).request(
        "GET", "/api/reports/summary", params=period
    )
    assert again == report


def logged(server: RunningServer) -> str:
    """Everything the database holds, as SQL text."""
    with contextlib.closing(sqlite3.connect(server.db)) as conn:
        return "\n".join(conn.iterdump())


async def test_a_visitor_answers_the_survey_once_after_the_visit(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, _ = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    ticket = await kiosk.check_in(visitor("r-survey-1"))
    survey_url = ticket.status_url.replace("http://127.0.0.1:8080", server.url) + "/survey"
    anonymous = server.client()
    with pytest.raises(ApiError) as early:
        await anonymous.request(
            "POST", survey_url.removeprefix(server.url), p.SurveyRequest(needs_met=True, rating=5)
        )
    assert early.value.status == 409
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "start")
    await clerk.ticket_action(ticket.id, "complete")
    path = survey_url.removeprefix(server.url)
    await anonymous.request("POST", path, p.SurveyRequest(needs_met=False, rating=2))
    with pytest.raises(ApiError) as twice:
        await anonymous.request("POST", path, p.SurveyRequest(needs_met=True, rating=5))
    assert twice.value.status == 409
    report = await (await server.staff("super")).request(
        "GET", "/api/reports/summary", params={"from": "2026-11-02"}
    )
    assert report["overall"]["survey"] == {"answers": 1, "needs_met_rate": 0.0, "mean_rating": 2}


async def test_acknowledgement_time_is_the_kiosks_own_within_arrival_and_now(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk = server.kiosk()
    late = await kiosk.check_in(visitor("r-ack-late"))
    early = await kiosk.check_in(visitor("r-ack-early"))
    printed_at = clock.now + timedelta(seconds=4)
    clock.advance(minutes=3)  # the report arrives after an outage
    await kiosk.ticket_action(late.id, "acknowledged", p.AcknowledgedRequest("printed", printed_at))
    await kiosk.ticket_action(
        early.id, "acknowledged", p.AcknowledgedRequest("screen", clock.now - timedelta(days=1))
    )
    report = await (await server.staff("super")).request(
        "GET", "/api/reports/summary", params={"from": "2026-11-02"}
    )
    assert report["overall"]["acknowledgement_sec"]["count"] == 2
    # 0 s (clamped to the arrival) and 4 s: the nearest-rank median is the lower one
    assert report["overall"]["acknowledgement_sec"]["median"] == 0.0
    assert report["overall"]["acknowledgement_sec"]["p90"] == 4.0
