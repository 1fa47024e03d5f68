"""Services open and close with the clock, and every screen hears of it through the stream."""

from __future__ import annotations

import pytest

from lobby.client import ApiError
from server.config import OfficeConfig
from server.keys import OFFICE
from tests.conftest import FakeClock, RunningServer, following, records_open, until, visitor


@pytest.fixture
def office_config() -> OfficeConfig:
    """Vital Records keeps morning hours; the test clock starts at 09:00."""
    return records_open("09:30-12:00")


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
    async with following(server, server.tokens["display"]) as display:
        assert display.services["records"].state == "closed"
        clock.advance(minutes=31)
        await office.housekeep()
        await until(lambda: display.services["records"].state == "open", what="records opens")
    ticket = await server.kiosk().check_in(visitor("on-time-01", "records"))
    assert ticket.number == "R-001" and ticket.service == "records"

    seq = office.published_seq
    await office.housekeep()
    assert office.published_seq == seq, "no new event while nothing changed"
