"""One morning at the front desk: every screen holds the same figures at every moment.

The display, the kiosk, a clerk's counter (its terminal's own model), the supervisor and a
visitor's status page each follow the real server; after every step they must agree on every
figure they share, and the estimate a visitor is shown at the kiosk is the one their ticket then
carries.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import aiohttp
import msgspec

from counter.model import CounterModel
from lobby import protocol as p
from lobby.state import OfficeState
from server.keys import OFFICE
from tests.conftest import FakeClock, RunningServer, following, follows, until, visitor


async def status_of(server: RunningServer, ticket: p.TicketView) -> p.TicketView:
    token = urlsplit(ticket.status_url).path.rsplit("/", 1)[-1]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/status/{token}/json") as response,
    ):
        body = await response.json()
    return msgspec.convert(body["ticket"], p.TicketView)


def public_part(counter: p.CounterView) -> tuple:
    return (
        counter.id,
        counter.state,
        counter.ticket,
        counter.ticket_number,
        counter.eligible_waiting,
    )


async def agree(
    server: RunningServer,
    screens: dict[str, OfficeState],
    issued: list[p.TicketView],
    desk: CounterModel,
) -> None:
    """Every screen is at the published seq and shows the same shared figures."""
    seq = server.app[OFFICE].published_seq
    screens = {**screens, "counter": desk.office}
    await until(lambda: all(s.seq == seq for s in screens.values()), what=f"all at seq {seq}")
    boss_view = screens["boss"]
    assert desk.counter == boss_view.counters["w1"]
    assert desk.office.services == boss_view.services
    held = boss_view.counters["w1"].ticket
    assert (desk.current.id if desk.current else None) == held
    if desk.current is not None:
        assert desk.current == boss_view.tickets[desk.current.id]
    display, kiosk, clerk, boss = (screens[k] for k in ("display", "kiosk", "clerk", "boss"))
    for screen in (kiosk, clerk, boss):
        assert list(screen.services.values()) == list(display.services.values())
        assert screen.calls == display.calls
    for screen in (kiosk, clerk, boss):
        assert [public_part(c) for c in screen.counters.values()] == [
            public_part(c) for c in display.counters.values()
        ]
    assert clerk.counters == boss.counters
    assert clerk.tickets == boss.tickets
    for ticket in issued:
        status = await status_of(server, ticket)
        staff = clerk.tickets.get(ticket.id)
        if staff is None:
            assert status.state not in p.OPEN_TICKET_STATES
            continue
        assert (status.state, status.position, status.estimate, status.waited_min) == (
            staff.state,
            staff.position,
            staff.estimate,
            staff.waited_min,
        )
        assert status.counter_name == staff.counter_name
        assert status.name is None and status.language is None, "the status page is public"


async def check_in_as_quoted(
    server: RunningServer, kiosk_view: OfficeState, request: p.CheckInRequest
) -> p.TicketView:
    """The kiosk button's figures before the tap are the ticket's figures after it."""
    service = kiosk_view.services[request.service]
    ticket = await server.kiosk().check_in(request)
    assert ticket.position == service.ahead + 1
    assert ticket.estimate == service.estimate
    assert ticket.quoted_estimate == service.estimate
    return ticket


async def test_a_morning_where_every_screen_tells_the_same_truth(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    office = server.app[OFFICE]
    clerk = await server.staff("clerk")
    boss = await server.staff("super")
    async with contextlib.AsyncExitStack() as stack:
        screens = {
            "display": await stack.enter_async_context(following(server, server.tokens["display"])),
            "kiosk": await stack.enter_async_context(following(server, server.tokens["kiosk"])),
            "clerk": await stack.enter_async_context(following(server, clerk.token or "")),
            "boss": await stack.enter_async_context(following(server, boss.token or "")),
        }
        # Window 1's terminal model, fed by the clerk's stream as the counter app feeds it
        desk = await stack.enter_async_context(
            follows(server, clerk.token or "", CounterModel("w1"))
        )
        kiosk = screens["kiosk"]
        issued: list[p.TicketView] = []
        await agree(server, screens, issued, desk)

        for i, (service, language) in enumerate(
            [("permits", "es"), ("billing", "en"), ("permits", "so"), ("records", "en")]
        ):
            request = visitor(f"morning-{i:03d}", service=service, kiosk_language=language)
            issued.append(await check_in_as_quoted(server, kiosk, request))
            clock.advance(minutes=2)
            await agree(server, screens, issued, desk)
        spanish = screens["clerk"].tickets[issued[0].id]
        assert spanish.language == "es", "the kiosk language is the visitor's language"

        await clerk.counter_action("w1", "open")
        await agree(server, screens, issued, desk)
        called = await clerk.call_next("w1")
        await agree(server, screens, issued, desk)
        assert [c.number for c in screens["display"].calls.now_serving] == [called.number]

        clock.advance(minutes=4)
        office.tick()
        await agree(server, screens, issued, desk)
        await clerk.ticket_action(called.id, "start")
        clock.advance(minutes=6)
        await clerk.ticket_action(called.id, "complete", p.CompleteRequest(needs_met=True))
        await agree(server, screens, issued, desk)
        assert screens["display"].calls.now_serving == []
        assert [c.number for c in screens["display"].calls.earlier] == [called.number]

        late = await check_in_as_quoted(server, kiosk, visitor("morning-late", service="billing"))
        issued.append(late)
        second = await clerk.call_next("w1")
        await clerk.ticket_action(second.id, "transfer", p.TransferRequest(service="records"))
        await agree(server, screens, issued, desk)
        third = await clerk.call_next("w1")
        await clerk.ticket_action(third.id, "no-show")
        clock.advance(minutes=20)
        office.tick()
        await agree(server, screens, issued, desk)
        levels = {s.id: s.wait_level for s in screens["display"].services.values()}
        assert "over" in levels.values(), levels
