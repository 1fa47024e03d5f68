"""A made-up office that answers like a server, for screenshots and snapshot tests.

Snapshots must be identical on every run, and a real server's status links are random, so the
screens are drawn against this fixed office instead. Behaviour is tested against a real server
(``tests/test_kiosk_flow.py``); this only has to look like one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from lobby import protocol as p
from lobby.client import ServerUnreachable, StreamMessage

ISSUED_AT = "2026-11-23T09:14:00-06:00"

SAMPLE_STATE = p.StateSnapshot(
    seq=1,
    now=ISSUED_AT,
    role="kiosk",
    office=p.OfficeView(
        name="City Hall Service Center",
        timezone="America/Chicago",
        languages=["en", "es", "so"],
        notice="Welcome. Please take a ticket and have a seat.",
        retention_days=30,
        public_url="http://192.168.1.10:8080",
    ),
    services=[
        p.ServiceView(
            id="permits",
            name="Permits and Licensing",
            prefix="P",
            state="open",
            hours="08:00-16:30",
            waiting=3,
            longest_wait_min=7.0,
            target_wait_min=10,
            estimate=p.Estimate(6, 10),
            info="Bring a photo ID and proof of address.",
            ahead=3,
        ),
        p.ServiceView(
            id="billing",
            name="Utility Billing",
            prefix="B",
            state="open",
            hours="08:00-16:30",
            waiting=0,
            longest_wait_min=0.0,
            target_wait_min=5,
            estimate=p.Estimate(0, 2),
            info="Bring your account number or a recent bill.",
        ),
        p.ServiceView(
            id="passports",
            name="Passports",
            prefix="A",
            state="closing",
            hours="08:00-09:30",
            waiting=4,
            longest_wait_min=12.0,
            target_wait_min=15,
            estimate=p.Estimate(16, 25),
            info="",
            ahead=4,
            wait_level="near",
        ),
        p.ServiceView(
            id="records",
            name="Vital Records",
            prefix="R",
            state="closed",
            hours="13:00-16:30",
            waiting=0,
            longest_wait_min=0.0,
            target_wait_min=15,
            estimate=p.Estimate(0, 2),
            info="Bring a photo ID. Certified copies cost $20.",
        ),
    ],
    counters=[],
)


@dataclass
class SampleBackend:
    """Streams one snapshot, then issues numbers the way the server would: the prefix, the
    place in line and the estimate the service's button showed, and a fixed status link."""

    state_snapshot: p.StateSnapshot = SAMPLE_STATE
    first_sequence: int = 14
    reachable: bool = True
    """False answers every check-in as a server that is down would."""
    requests: list[p.CheckInRequest] = field(default_factory=list)
    acknowledgements: list[tuple[int, str]] = field(default_factory=list)
    printer_reports: list[tuple[str, str]] = field(default_factory=list)
    emergency_acks: list[int] = field(default_factory=list)
    _tickets: dict[str, p.TicketView] = field(default_factory=dict)

    async def follow(self, on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
        on_connection(True)
        yield p.StreamSnapshot(seq=self.state_snapshot.seq, state=self.state_snapshot)
        await asyncio.Event().wait()

    async def check_in(self, request: p.CheckInRequest) -> p.TicketView:
        self.requests.append(request)
        if not self.reachable:
            raise ServerUnreachable("the sample office is switched off")
        if request.client_request_id in self._tickets:
            return self._tickets[request.client_request_id]
        service = next(s for s in self.state_snapshot.services if s.id == request.service)
        ticket = p.TicketView(
            id=len(self._tickets) + 1,
            number=f"{service.prefix}-{self.first_sequence + len(self._tickets):03d}",
            service=service.id,
            state="waiting",
            arrived_at=ISSUED_AT,
            called_at=None,
            counter=None,
            position=service.ahead + 1,
            estimate=service.estimate,
            status_url=f"{self.state_snapshot.office.public_url}/status/Zq3xY7pLmN2a",
            service_name=service.name,
            quoted_estimate=service.estimate,
        )
        self._tickets[request.client_request_id] = ticket
        return msgspec.structs.replace(ticket)

    async def acknowledged(self, ticket_id: int, via: str, at: datetime) -> None:
        self.acknowledgements.append((ticket_id, via))

    async def printer_status(self, status: str, detail: str) -> None:
        self.printer_reports.append((status, detail))

    async def emergency_ack(self, emergency_id: int) -> None:
        self.emergency_acks.append(emergency_id)

    async def close(self) -> None:
        return None
