"""The worked example with an emergency of docs/measures.md, driven through a real server on
each store: the waits the emergency interrupted are reported apart and not held to the target,
and the emergencies and drills of the day are listed with their durations and the time it took
every screen to show them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient
from tests.conftest import FakeClock, RunningServer, free_port, seed_accounts, visitor
from tests.store_backends import postgres_schema
from tests.test_measures_example import EXAMPLE

START = datetime(2026, 11, 2, 9, 0, tzinfo=EXAMPLE.tz)


@contextlib.contextmanager
def sqlite_db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "lobby.db")


@contextlib.asynccontextmanager
async def example_server(db: str, clock: FakeClock) -> AsyncIterator[RunningServer]:
    server = RunningServer(
        EXAMPLE, db, free_port(), seed_accounts(db), clock=clock, tick_sec=3600.0
    )
    await server.start()
    try:
        yield server
    finally:
        for client in server.clients:
            await client.close()
        await server.stop()


DATABASES: dict[str, Callable[[Path], contextlib.AbstractContextManager[str]]] = {
    "sqlite": sqlite_db,
    "postgres": lambda _: postgres_schema(),
}


@pytest.mark.parametrize("store", list(DATABASES))
async def test_the_emergency_morning_reports_as_the_document_says(
    tmp_path: Path, store: str
) -> None:
    clock = FakeClock(START)
    with DATABASES[store](tmp_path) as db:
        async with example_server(db, clock) as server:
            report = await emergency_morning(server, clock)
    permits = report["services"]["permits"]
    # P-001 (2 min) and P-004 (4 min) waited a normal morning; P-002 and P-003 were waiting
    # when the evacuation began at 09:06 and were called after it ended, at 09:21 and 09:25
    assert permits["check_ins"] == 4 and permits["called"] == 4
    assert permits["wait_min"] == {"count": 2, "mean": 3.0, "median": 2.0, "p90": 4.0}
    assert permits["during_emergencies"] == {
        "visits": 2,
        "called": 2,
        "wait_min": {"count": 2, "mean": 18.5, "median": 17.0, "p90": 20.0},
    }
    assert permits["service_level"] == {"met": 2, "counted": 2, "rate": 1.0, "below_goal": False}
    assert permits["estimate_error"]["count"] == 2, "the interrupted waits are not scored"
    assert report["overall"]["during_emergencies"] == permits["during_emergencies"]
    assert report["days"] == [
        {
            "day": "2026-11-02",
            "check_ins": 4,
            "wait_mean_min": 3.0,
            "service_level": {"met": 2, "counted": 2, "rate": 1.0, "below_goal": False},
        }
    ]
    assert report["emergencies"] == [
        {
            "id": report["emergencies"][0]["id"],
            "kind": "evacuate",
            "drill": False,
            "started_at": "2026-11-02T09:06:00-06:00",
            "ended_at": "2026-11-02T09:20:00-06:00",
            "started_by": "super",
            "ended_by": "super",
            "minutes": 14.0,
            "screens_expected": 3,
            "screens_acknowledged": 3,
            "screens_missing": [],
            "all_screens_sec": 12.0,
        },
        {
            "id": report["emergencies"][1]["id"],
            "kind": "drill",
            "drill": True,
            "started_at": "2026-11-02T10:00:00-06:00",
            "ended_at": "2026-11-02T10:05:00-06:00",
            "started_by": "super",
            "ended_by": "super",
            "minutes": 5.0,
            "screens_expected": 3,
            "screens_acknowledged": 2,
            "screens_missing": ["kiosk:test-kiosk"],
            "all_screens_sec": None,
        },
    ]
    text = repr(report["emergencies"])
    assert "Grace" not in text and "Hopper" not in text


async def emergency_morning(server: RunningServer, clock: FakeClock) -> dict[str, Any]:
    """The morning of docs/measures.md's "Worked example with an emergency"."""
    kiosk, display = server.kiosk(), server.display()
    clerk, supervisor = await server.staff("clerk"), await server.staff("super")
    done = p.CompleteRequest(needs_met=True)

    def at(minutes: float) -> None:
        clock.now = START + timedelta(minutes=minutes)

    async def start(kind: str) -> int:
        view = await supervisor.request(
            "POST", "/api/emergency", p.EmergencyStartRequest(kind=kind), p.EmergencyView
        )
        return int(view.id)

    async def ack(client: LobbyClient, emergency: int, counter: str | None = None) -> None:
        body = p.EmergencyAckRequest(emergency=emergency, counter=counter)
        await client.request("POST", "/api/emergency/ack", body)

    async def end() -> None:
        await supervisor.request("POST", "/api/emergency/end")

    await clerk.counter_action("w1", "open")
    p1 = await kiosk.check_in(visitor("emerg-p1", name="Grace Hopper"))  # 09:00
    at(2)
    assert (await clerk.call_next("w1")).number == p1.number
    at(3)
    await clerk.ticket_action(p1.id, "start")
    at(4)
    p2 = await kiosk.check_in(visitor("emerg-p2"))
    at(5)
    p3 = await kiosk.check_in(visitor("emerg-p3"))
    at(6)
    evacuation = await start("evacuate")
    at(6 + 3 / 60)
    await ack(display, evacuation)
    at(6 + 5 / 60)
    await ack(kiosk, evacuation)
    at(6 + 12 / 60)
    await ack(clerk, evacuation, counter="w1")
    at(7)
    with pytest.raises(ApiError):
        await kiosk.check_in(visitor("emerg-refused"))
    at(20)
    await end()
    at(21)
    await clerk.ticket_action(p1.id, "complete", done)
    assert (await clerk.call_next("w1")).number == p2.number
    await clerk.ticket_action(p2.id, "start")
    at(25)
    await clerk.ticket_action(p2.id, "complete", done)
    assert (await clerk.call_next("w1")).number == p3.number
    await clerk.ticket_action(p3.id, "start")
    at(26)
    p4 = await kiosk.check_in(visitor("emerg-p4"))
    at(30)
    await clerk.ticket_action(p3.id, "complete", done)
    assert (await clerk.call_next("w1")).number == p4.number
    await clerk.ticket_action(p4.id, "start")
    at(35)
    await clerk.ticket_action(p4.id, "complete", done)
    at(60)
    drill = await start("drill")
    at(60 + 4 / 60)
    await ack(display, drill)
    at(60 + 30 / 60)
    await ack(clerk, drill, counter="w1")
    at(65)
    await end()
    report: dict[str, Any] = await supervisor.request(
        "GET", "/api/reports/summary", params={"from": "2026-11-02", "to": "2026-11-02"}
    )
    headers = {"Authorization": f"Bearer {supervisor.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/supervisor/report?from=2026-11-02&to=2026-11-02", headers=headers
        ) as page,
    ):
        printable = await page.text()
    assert "Emergency · evacuate · 02 Nov 09:06 · 14.0 min · every screen showed it within" in (
        printable
    )
    assert "Drill · drill · 02 Nov 10:00 · 5.0 min · 2 of 3 screens acknowledged" in printable
    assert "2 visitors were waiting when one began" in printable
    return report
