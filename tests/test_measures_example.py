"""The worked example of docs/measures.md, driven through a real server: every quote the
example's table shows, and the estimate figures computed from them, come out exactly so."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lobby import protocol as p
from server.config import parse_config
from tests.conftest import FakeClock, running_server, visitor

EXAMPLE = parse_config(
    (Path(__file__).parent / "office.toml").read_text(encoding="utf-8").split("[[services]]")[0]
    + """
[[services]]
id = "permits"
name = "Permits"
prefix = "P"
target_wait_min = 10
mean_service_min = 8
hours = "00:00-24:00"

[[services]]
id = "billing"
name = "Billing"
prefix = "B"
target_wait_min = 5
mean_service_min = 4
hours = "00:00-24:00"

[[counters]]
id = "w1"
name = "Window 1"
services = ["permits", "billing"]

[[counters]]
id = "w2"
name = "Window 2"
services = ["billing"]
"""
)

# docs/measures.md, "Worked example": (range low, high, point) quoted at check-in
QUOTES = {
    "P-001": (0, 2, 0.0),
    "B-001": (0, 2, 0.0),
    "P-002": (2, 13, 7.5),
    "P-003": (5, 21, 13.75),
    "P-004": (11, 31, 22.5),
    "B-002": (0, 4, 1.25),
}


async def test_the_worked_example_quotes_and_scores_as_the_document_says(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=EXAMPLE.tz))
    async with running_server(tmp_path, EXAMPLE, clock) as server:
        kiosk, clerk = server.kiosk(), await server.staff("clerk")
        other = await server.staff("clerk2")
        supervisor = await server.staff("super")

        def at(minutes: float) -> None:
            clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=EXAMPLE.tz) + timedelta(minutes=minutes)

        done = p.CompleteRequest(needs_met=True)
        await clerk.counter_action("w1", "open")
        await other.counter_action("w2", "open")
        tickets = {}

        async def arrive(rid: str, service: str) -> None:
            ticket = await kiosk.check_in(visitor(rid, service))
            tickets[ticket.number] = ticket

        await arrive("example-p1", "permits")  # 09:00
        at(2)
        await arrive("example-b1", "billing")
        at(2.6)
        assert (await other.call_next("w2")).number == "B-001"
        at(3)
        assert (await clerk.call_next("w1")).number == "P-001"
        at(3.6)
        await other.ticket_action(tickets["B-001"].id, "start")
        at(4)
        await clerk.ticket_action(tickets["P-001"].id, "start")
        at(5)
        await arrive("example-p2", "permits")
        at(7.6)
        await other.ticket_action(tickets["B-001"].id, "complete", done)
        at(8)
        await arrive("example-p3", "permits")
        at(10)
        await arrive("example-p4", "permits")
        at(12)
        await clerk.ticket_action(tickets["P-001"].id, "complete", done)
        assert (await clerk.call_next("w1")).number == "P-002"
        at(14)
        await clerk.ticket_action(tickets["P-002"].id, "recall")
        at(15)
        await clerk.ticket_action(tickets["P-002"].id, "start")
        at(16)
        await clerk.ticket_action(tickets["P-004"].id, "cancel")
        at(20)
        await clerk.ticket_action(
            tickets["P-002"].id, "transfer", p.TransferRequest(service="billing")
        )
        assert (await other.call_next("w2")).number == "P-002"
        assert (await clerk.call_next("w1")).number == "P-003"
        at(22)
        await other.ticket_action(tickets["P-002"].id, "start")
        at(23)
        await clerk.ticket_action(tickets["P-003"].id, "no-show")
        await clerk.counter_action("w1", "close")
        at(24)
        await arrive("example-b2", "billing")
        at(28)
        await other.ticket_action(
            tickets["P-002"].id, "complete", p.CompleteRequest(needs_met=False)
        )
        await other.counter_action("w2", "break")
        at(35)
        await supervisor.ticket_action(tickets["B-002"].id, "cancel")

        quoted = {
            n: (t.quoted_estimate.low_min, t.quoted_estimate.high_min)
            for n, t in tickets.items()
            if t.quoted_estimate is not None
        }
        assert quoted == {n: q[:2] for n, q in QUOTES.items()}
        report: dict[str, Any] = await supervisor.request(
            "GET", "/api/reports/summary", params={"from": "2026-11-02", "to": "2026-11-02"}
        )
    # the points, against the waits of those called: P-001 0 vs 3 (-3, above 0-2), B-001 0 vs
    # 0.6 (-0.6, inside), P-002 7.5 vs 7 (+0.5, inside), P-003 13.75 vs 12 (+1.75, inside)
    assert report["overall"]["estimate_error"] == {
        "count": 4,
        "mean_abs_error_min": 1.46,
        "bias_min": -0.34,
        "within_5_min": 1.0,
        "range_inside": 0.75,
        "range_below": 0.0,
        "range_above": 0.25,
        "mean_range_width_min": 7.75,
    }
