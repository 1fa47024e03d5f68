"""Eight counters pressing "call next" at the same moment never get the same visitor."""

from __future__ import annotations

import asyncio

import pytest

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient
from server.config import OfficeConfig, parse_config
from tests.conftest import CONFIG_PATH, RunningServer

COUNTERS = [f"c{i}" for i in range(1, 9)]


@pytest.fixture
def office_config() -> OfficeConfig:
    """The test office with eight counters that all serve permits and billing."""
    base = CONFIG_PATH.read_text().split("[[counters]]")[0]
    counters = "".join(
        f'[[counters]]\nid = "{c}"\nname = "Window {c[1:]}"\nservices = ["permits", "billing"]\n'
        for c in COUNTERS
    )
    return parse_config(base + counters, "eight-counters.toml")


async def test_eight_counters_calling_at_once_never_share_a_visitor(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    await asyncio.gather(
        *(
            kiosk.check_in(
                p.CheckInRequest(
                    service=("permits", "billing")[i % 2], client_request_id=f"q-{i:06d}"
                )
            )
            for i in range(60)
        )
    )
    clerks = [await server.staff("clerk") for _ in COUNTERS]
    for clerk, counter in zip(clerks, COUNTERS, strict=True):
        await clerk.counter_action(counter, "open")
    seen: list[tuple[int, str]] = []

    async def serve_all(clerk: LobbyClient, counter: str) -> None:
        while True:
            try:
                ticket = await clerk.call_next(counter)
            except ApiError as refused:
                assert refused.status == 409, refused.message
                return
            assert ticket.counter == counter
            seen.append((ticket.id, counter))
            await clerk.ticket_action(ticket.id, "start")
            await clerk.ticket_action(ticket.id, "complete")

    await asyncio.gather(*(serve_all(c, n) for c, n in zip(clerks, COUNTERS, strict=True)))
    ids = [ticket_id for ticket_id, _ in seen]
    assert sorted(ids) == list(range(1, 61)), "every visitor called exactly once"
    assert len({counter for _, counter in seen}) > 1, "the calls were spread over counters"
