"""Services open and close with the clock, and every screen hears of it through the stream."""

from __future__ import annotations

import json

import aiohttp
import pytest

from lobby.client import ApiError
from server.config import OfficeConfig, parse_config
from server.keys import OFFICE
from tests.conftest import CONFIG_PATH, FakeClock, RunningServer, visitor


@pytest.fixture
def office_config() -> OfficeConfig:
    """Vital Records keeps morning hours; the test clock starts at 09:00."""
    text = CONFIG_PATH.read_text()
    head, records = text.split('id = "records"')
    records = records.replace('hours = "00:00-24:00"', 'hours = "09:30-12:00"', 1)
    return parse_config(head + 'id = "records"' + records, "morning.toml")


async def test_a_service_opening_on_time_reaches_the_display_stream(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    office = server.app[OFFICE]
    await server.kiosk().check_in(visitor("first-of-day"))  # 09:00, permits is open
    await office.housekeep()
    with pytest.raises(ApiError) as closed:
        await server.kiosk().check_in(visitor("early-bird", "records"))
    assert closed.value.status == 409 and "09:30-12:00" in closed.value.message
    since = office.hub.last_seq

    clock.advance(minutes=31)
    await office.housekeep()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{server.url}/ws?since={since}",
            headers={"Authorization": f"Bearer {server.tokens['display']}"},
        ) as ws,
    ):
        event = json.loads((await ws.receive(timeout=3)).data)
    assert event["kind"] == "services.hours"
    records = next(s for s in event["services"] if s["id"] == "records")
    assert records["state"] == "open"
    ticket = await server.kiosk().check_in(visitor("on-time-01", "records"))
    assert ticket.number == "R-001" and ticket.service == "records"

    await office.housekeep()
    assert office.hub.last_seq == event["seq"] + 1, "no new event while nothing changed"
