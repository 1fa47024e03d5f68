"""The counter terminal driven through its keys against a real server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Static

from counter.app import CounterApp, main
from counter.screens.complete import CompleteScreen
from counter.screens.confirm import ConfirmScreen
from counter.screens.desk import DeskScreen
from counter.screens.safety import ChecklistScreen
from counter.screens.sign_in import SignInScreen
from counter.screens.text_form import FLAG, NOTE, TextForm, TextFormScreen
from counter.screens.transfer import TransferScreen
from counter.screens.walk_in import WalkInScreen
from lobby import protocol as p
from lobby.client import ApiError, live
from server.keys import OFFICE
from tests.conftest import STAFF, FakeClock, RunningServer, until, visitor

SIZE = (120, 36)
FAST = (0.05, 0.1, 0.2)


class Recorder:
    """Keeps every notification the app shows (toasts expire; tests should not race them)."""

    def __init__(self, app: CounterApp) -> None:
        self.messages: list[str] = []
        original = app.notify

        def notify(message: str, **kwargs: Any) -> None:
            self.messages.append(str(message))
            original(message, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

    def saw(self, fragment: str) -> bool:
        return any(fragment in m for m in self.messages)


@contextlib.asynccontextmanager
async def signing_in(
    server: RunningServer, counter: str, clerk: str, password: str
) -> AsyncIterator[tuple[CounterApp, Pilot[None], Recorder]]:
    """The app with the sign-in form sent, whatever the server answers."""
    app = CounterApp(server.url, counter, reconnect_delays=FAST)
    recorder = Recorder(app)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, clerk, password)
        yield app, pilot, recorder


@contextlib.asynccontextmanager
async def counter_app(
    server: RunningServer, counter: str = "w1", clerk: str = "clerk"
) -> AsyncIterator[tuple[CounterApp, Pilot[None], Recorder]]:
    async with signing_in(server, counter, clerk, STAFF[clerk]) as (app, pilot, recorder):
        await until(lambda: isinstance(app.screen, DeskScreen), what="the desk opens")
        await until(lambda: app.model.ready and app.model.connected, what="the stream is live")
        yield app, pilot, recorder


async def sign_in(app: CounterApp, pilot: Pilot[None], name: str, password: str) -> None:
    await until(lambda: isinstance(app.screen, SignInScreen))
    app.screen.query_one("#name", Input).value = name
    field = app.screen.query_one("#password", Input)
    field.value = password
    field.focus()
    await pilot.press("enter")


async def type_into(app: CounterApp, selector: str, text: str) -> None:
    """Fill a form field at once; typing key by key is covered by the walk-in test."""
    field = app.screen.query_one(selector, Input)
    field.focus()
    field.value = text


def plain(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


async def sign_in_error(app: CounterApp) -> str:
    error = app.screen.query_one("#sign-in-error", Static)
    await until(lambda: error.display, what="a message on the sign-in form")
    return plain(error)


def showing(app: CounterApp, form: TextForm) -> bool:
    return isinstance(app.screen, TextFormScreen) and app.screen.form is form


def screen_text(app: CounterApp) -> str:
    """Everything the terminal shows right now, as a person in front of it would read it."""
    svg = app.export_screenshot()
    return svg.replace("&#160;", " ")


def desk_text(app: CounterApp, selector: str) -> str:
    return plain(app.screen.query_one(selector, Static))


def visitor_text(app: CounterApp) -> str:
    return desk_text(app, "#visitor")


async def state_of(server: RunningServer, ticket_id: int) -> p.TicketView:
    supervisor = await server.staff("super")
    return await supervisor.ticket(ticket_id)


# ---------------------------------------------------------------- sign-in


async def test_wrong_password_gets_a_plain_message(server: RunningServer) -> None:
    async with signing_in(server, "w1", "clerk", "not-the-password") as (app, _pilot, _):
        assert "name or password is not right" in await sign_in_error(app)
        assert isinstance(app.screen, SignInScreen)
        assert app.screen.query_one("#password", Input).value == ""
    state = await (await server.staff("super")).state()
    assert next(c for c in state.counters if c.id == "w1").state == "closed"


async def test_signing_in_opens_the_counter(server: RunningServer) -> None:
    async with counter_app(server) as (app, _pilot, _):
        state = await (await server.staff("super")).state()
        w1 = next(c for c in state.counters if c.id == "w1")
        assert (w1.state, w1.staff) == ("open", "clerk")
        status = desk_text(app, "#counter-state")
        assert "Window 1" in status and "OPEN" in status
        assert "clerk" in desk_text(app, "#link")


async def test_a_counter_held_by_someone_else_is_refused_with_a_message(
    server: RunningServer,
) -> None:
    async with (
        counter_app(server, "w1", "clerk"),
        signing_in(server, "w1", "clerk2", "clerk2") as (other, _pilot, _),
    ):
        assert "Window 1 is signed in by clerk" in await sign_in_error(other)
        assert isinstance(other.screen, SignInScreen)


async def test_a_session_the_server_no_longer_knows_returns_to_sign_in(
    server: RunningServer,
) -> None:
    async with counter_app(server) as (app, pilot, _):
        app.session.client.token = "revoked-session-token"
        await pilot.press("b")
        await until(lambda: isinstance(app.screen, SignInScreen), what="back to sign-in")
        assert "Your session has ended" in await sign_in_error(app)
        assert not app.session.signed_in
        assert app.check_action("safety_alert", ()) is False


async def test_the_alert_key_is_written_for_staff_at_sign_in_and_nowhere_on_the_desk(
    server: RunningServer,
) -> None:
    app = CounterApp(server.url, "w1", reconnect_delays=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, SignInScreen))
        assert "Ctrl+E, then Enter" in screen_text(app)
        await sign_in(app, pilot, "clerk", "clerk")
        await until(lambda: isinstance(app.screen, DeskScreen) and app.model.allows("walk_in"))
        await pilot.pause()
        for screen in ("desk", "walk-in form"):
            shown = screen_text(app)
            assert "Walk-in" in shown, screen
            assert "Alert" not in shown and "^e" not in shown, screen
            await pilot.press("w")
            await until(lambda: isinstance(app.screen, WalkInScreen))
            await pilot.pause()


def test_a_server_address_that_is_not_a_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argparse.Namespace(server="localhost:8080", counter="w1")) == 2
    assert "--server must be a URL" in capsys.readouterr().err


# ------------------------------------------------------------------ visits


async def test_full_visit_call_arrived_complete_with_needs_met_and_notes(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    async with counter_app(server) as (app, pilot, recorder):
        ticket = await kiosk.check_in(
            visitor(
                "visit-0001",
                name="Maria Garcia",
                address_as="ms",
                language="es",
                needs=["wheelchair"],
            )
        )
        await until(lambda: app.model.eligible_waiting == 1, what="the visitor shows up")
        banner = app.screen.query_one("#idle-banner", Static)
        await until(lambda: banner.display)
        assert "1 waiting for" in plain(banner)

        await pilot.press("c")
        await until(lambda: app.model.state == "calling", what="calling")
        card = visitor_text(app)
        assert "Ms. Garcia" in card and "P-001" in card
        assert "Español (es)" in card and "Uses a wheelchair" in card
        assert not banner.display
        assert recorder.saw("Calling P-001")

        await pilot.press("a")
        await until(lambda: app.model.state == "serving", what="serving")
        await pilot.press("m")
        await until(lambda: showing(app, NOTE))
        await type_into(app, "#text", "Brought the old permit")
        await pilot.press("enter")
        await until(lambda: "Brought the old permit" in visitor_text(app), what="the note shows")
        await pilot.press("d")
        await until(lambda: isinstance(app.screen, CompleteScreen))
        await type_into(app, "#notes", "Permit renewed")
        await pilot.press("enter", "y")
        await until(lambda: app.model.state == "open", what="the counter is free again")
        assert recorder.saw("P-001 completed")

        await pilot.press("f")  # the visitor has left: the flag is about the last one served
        await until(lambda: showing(app, FLAG))
        await pilot.press("enter")
        assert "Give a short reason" in plain(app.screen.query_one(".form-error", Static))
        await type_into(app, "#text", "Upset about the fee")
        await pilot.press("enter")
        await until(lambda: recorder.saw("P-001 flagged"), what="the flag is recorded")

    done = await state_of(server, ticket.id)
    assert done.state == "done" and done.needs_met is True
    assert [n.text for n in done.notes or []] == ["Brought the old permit", "Permit renewed"]
    assert done.started_at is not None
    assert done.flagged == "Upset about the fee"


async def test_the_card_shows_the_kiosk_language_and_why_a_visitor_went_first(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("longer-001", kiosk_language="en"))
    await kiosk.check_in(visitor("first-0001", kiosk_language="es", needs=["wheelchair"]))
    async with counter_app(server) as (app, pilot, _):
        await until(lambda: app.model.allows("call_next"))
        await pilot.press("c")
        await until(lambda: app.model.current is not None, what="a visitor is called")
        card = visitor_text(app)
        assert "P-002" in card, "the wheelchair user is called ahead of a longer wait"
        assert "Español (es)" in card and "not given" not in card
        assert "Head start: wheelchair" in card
        await until(lambda: app.model.allows("no_show") and not app.screen.busy)  # type: ignore[attr-defined]
        await pilot.press("n", "y")
        await until(lambda: app.model.allows("call_next") and not app.screen.busy)  # type: ignore[attr-defined]
        await pilot.press("c")
        await until(lambda: app.model.current is not None and app.model.current.number == "P-001")
        card = visitor_text(app)
        assert "English (en)" in card and "Head start" not in card


async def test_the_waits_shown_are_the_servers_moved_by_its_tick(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    await server.kiosk().check_in(visitor("ticking-01"))
    async with counter_app(server) as (app, pilot, _):
        banner = app.screen.query_one("#idle-banner", Static)
        await until(lambda: banner.display)
        assert "1 waiting for under a minute" in plain(banner)
        clock.advance(minutes=7)
        await asyncio.sleep(0.2)
        assert "under a minute" in plain(banner), "the terminal ages nothing by itself"
        server.app[OFFICE].tick()
        await until(lambda: "1 waiting for 7 min" in plain(banner), what="the tick's figure")
        assert "longest  7 min" in desk_text(app, "#queues")
        await pilot.press("c")
        await until(lambda: app.model.current is not None)
        assert "Waited    7 min  (arrived 09:00, first called 09:07)" in visitor_text(app)


async def test_recall_then_no_show(server: RunningServer) -> None:
    kiosk = server.kiosk()
    async with counter_app(server) as (app, pilot, _):
        ticket = await kiosk.check_in(visitor("noshow-001"))
        await until(lambda: app.model.allows("call_next"))
        await pilot.press("c")
        await until(lambda: app.model.current is not None and app.model.allows("recall"))
        await pilot.press("r")
        await until(lambda: app.model.current is not None and app.model.current.recalls == 1)
        assert "recalled once" in visitor_text(app)
        await until(lambda: app.model.allows("no_show") and not app.screen.busy)  # type: ignore[attr-defined]
        await pilot.press("n")
        await until(lambda: not isinstance(app.screen, DeskScreen), what="the question")
        await pilot.press("y")
        await until(lambda: app.model.state == "open" and app.model.current is None)
    final = await state_of(server, ticket.id)
    assert (final.state, final.recalls) == ("no_show", 1)


async def test_recalls_past_the_limit_are_refused_as_a_notification(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    async with counter_app(server) as (app, pilot, recorder):
        await kiosk.check_in(visitor("recall-0001"))
        await until(lambda: app.model.allows("call_next"))
        await pilot.press("c")
        for expected in (1, 2, 3):
            await until(lambda: app.model.allows("recall") and not app.screen.busy)  # type: ignore[attr-defined]
            await pilot.press("r")
            await until(lambda e=expected: app.model.current and app.model.current.recalls == e)
        await until(lambda: not app.screen.busy)  # type: ignore[attr-defined]
        await pilot.press("r")
        await until(lambda: recorder.saw("already recalled 3 times"), what="the refusal")
        assert isinstance(app.screen, DeskScreen)
        assert app.model.current is not None and app.model.current.state == "called"


async def test_transfer_keeps_the_arrival_time(server: RunningServer) -> None:
    kiosk = server.kiosk()
    async with counter_app(server) as (app, pilot, _):
        ticket = await kiosk.check_in(
            visitor("transfer-01", name="Ana Lee", address_as="first_name")
        )
        await until(lambda: app.model.allows("call_next"))
        await pilot.press("c")
        await until(lambda: app.model.allows("start"))
        await pilot.press("a")
        await until(lambda: app.model.state == "serving")
        await pilot.press("t")
        await until(lambda: isinstance(app.screen, TransferScreen))
        await pilot.press("enter")  # the first other service this office offers: billing
        await type_into(app, "#note", "Owes on water bill")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, DeskScreen), what="the form closes")
        await until(lambda: app.model.state == "open" and app.model.current is None)
        assert "No visitor" in visitor_text(app)

    moved = await state_of(server, ticket.id)
    assert (moved.state, moved.service) == ("waiting", "billing")
    assert moved.arrived_at == ticket.arrived_at
    assert [(t.from_service, t.to_service, t.by_counter) for t in moved.transfers] == [
        ("permits", "billing", "w1")
    ]
    assert [n.text for n in moved.notes or []] == ["Owes on water bill"]


async def test_walk_in_creates_a_ticket_at_the_counter(server: RunningServer) -> None:
    async with counter_app(server) as (app, pilot, recorder):
        await pilot.press("w")
        await until(lambda: isinstance(app.screen, WalkInScreen))
        await pilot.press(*"Omar Hassan")  # letters that are desk keys go into the field
        assert app.screen.query_one("#name", Input).value == "Omar Hassan"
        app.screen.query_one("#address").value = "mr"  # type: ignore[attr-defined]
        app.screen.query_one("#language").value = "so"  # type: ignore[attr-defined]
        app.screen.query_one("#needs").select("seated")  # type: ignore[attr-defined]
        await pilot.click("#create")
        await until(lambda: isinstance(app.screen, DeskScreen), what="the form closes")
        await until(lambda: recorder.saw("Walk-in ticket P-001 created"))
        assert app.model.state == "open", "typing the name pressed no desk key"
        await until(lambda: app.model.eligible_waiting == 1)
        await pilot.press("c")
        await until(lambda: app.model.current is not None)
        card = visitor_text(app)
        assert "Mr. Hassan" in card and "Soomaali (so)" in card and "Needs to be seated" in card

    state = await (await server.staff("super")).state()
    (ticket,) = state.tickets
    assert (ticket.number, ticket.name, ticket.language) == ("P-001", "Omar Hassan", "so")


async def test_the_walk_in_form_fits_80x24_and_every_control_is_reached_with_tab(
    server: RunningServer,
) -> None:
    app = CounterApp(server.url, "w1", reconnect_delays=FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot, "clerk", "clerk")
        await until(lambda: isinstance(app.screen, DeskScreen) and app.model.allows("walk_in"))
        await pilot.pause()
        await pilot.press("w")
        await until(lambda: isinstance(app.screen, WalkInScreen))
        await pilot.pause()
        screen = app.screen
        reached: list[str] = []
        for _ in range(12):
            focused = screen.focused
            assert focused is not None
            if focused.id in reached:
                break
            reached.append(focused.id or "")
            region = focused.region
            assert screen.region.contains_region(region) and region.height > 0, focused.id
            await pilot.press("tab")
        assert reached == ["name", "address", "language", "needs", "create", "back", "service"]
        for selector in ("#create", "#back", "#needs"):
            assert screen.query_one(selector).region.bottom <= 23, f"{selector} is on screen"

        await pilot.press(*"Ana")
        while screen.focused is not None and screen.focused.id != "create":
            await pilot.press("tab")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, DeskScreen), what="the form closes")
    state = await (await server.staff("super")).state()
    assert [t.name for t in state.tickets] == ["Ana"]


async def test_break_with_visitors_waiting_does_not_raise_the_idle_banner(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    async with counter_app(server) as (app, pilot, _):
        for i in range(2):
            await kiosk.check_in(visitor(f"break-000{i}"))
        banner = app.screen.query_one("#idle-banner", Static)
        await until(lambda: banner.display and "2 waiting" in plain(banner))

        await pilot.press("b")
        await until(lambda: app.model.state == "break", what="on break")
        assert not banner.display
        assert "ON BREAK" in desk_text(app, "#counter-state")
        assert app.screen.check_action("call_next", ()) is None, "call next is disabled"
        await pilot.press("c")
        assert app.model.state == "break"

        await pilot.press("b")
        await until(lambda: app.model.state == "open", what="resumed")
        await until(lambda: banner.display and "2 waiting" in plain(banner))


# ------------------------------------------------------------------ safety


async def test_safety_alert_reaches_supervisors_and_never_a_display(
    server: RunningServer,
) -> None:
    supervisor = await server.staff("super")
    assert supervisor.token is not None
    seen: dict[str, list[p.StreamPatch]] = {"super": [], "display": []}

    async def watch(who: str, token: str) -> None:
        async for message in live(server.url, token, reconnect_delays=FAST):
            if isinstance(message, p.StreamPatch):
                seen[who].append(message)

    def alerts(who: str, cause: str) -> list[p.AlertView]:
        return [a for m in seen[who] if cause in m.cause for a in m.alerts]

    watchers = [
        asyncio.create_task(watch("super", supervisor.token)),
        asyncio.create_task(watch("display", server.tokens["display"])),
    ]
    try:
        async with counter_app(server) as (app, pilot, recorder):
            await pilot.press("ctrl+e")
            await pilot.pause()
            assert not any(a for m in seen["super"] for a in m.alerts), "one key is not enough"
            await pilot.press("enter")
            await until(lambda: alerts("super", "alert.raised"), what="the supervisor hears of it")
            (raised,) = alerts("super", "alert.raised")
            assert (raised.counter, raised.staff) == ("w1", "clerk")
            assert not any("alert" in m.lower() or "safety" in m.lower() for m in recorder.messages)

            await until(lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
            for box in app.screen.query(Checkbox):
                box.value = True
            await pilot.click("#save")
            await until(
                lambda: any(a.resolved for a in alerts("super", "alert.checklist")),
                what="the checklist reaches the supervisor",
            )
            await until(lambda: app.model.alert is None)

            await server.kiosk().check_in(visitor("after-alert"))
            await until(lambda: any("ticket.checked_in" in m.cause for m in seen["display"]))
        assert not any(
            m.alerts or any(c.startswith("alert.") for c in m.cause) for m in seen["display"]
        )
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


async def test_alert_key_works_while_a_form_is_open(server: RunningServer) -> None:
    async with counter_app(server) as (app, pilot, _):
        await pilot.press("w")
        await until(lambda: isinstance(app.screen, WalkInScreen))
        await pilot.press(*"Some", "ctrl+e", "enter")
        await until(lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, WalkInScreen))
        assert app.model.alert is not None
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, DeskScreen))
        await pilot.press("k")
        await until(lambda: isinstance(app.screen, ChecklistScreen), what="reopened with k")
    state = await (await server.staff("super")).state()
    assert [a.counter for a in state.alerts] == ["w1"]


# ------------------------------------------------------------- concurrency


async def test_two_counters_pressing_call_next_together_never_get_the_same_visitor(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    async with (
        counter_app(server, "w1", "clerk") as (one, pilot_one, _),
        counter_app(server, "w2", "clerk2") as (two, pilot_two, _),
    ):
        for i in range(3):
            await kiosk.check_in(visitor(f"race-000{i}"))
        await until(lambda: one.model.allows("call_next") and two.model.allows("call_next"))
        await asyncio.gather(pilot_one.press("c"), pilot_two.press("c"))
        await until(lambda: one.model.current is not None and two.model.current is not None)
        assert one.model.current is not None and two.model.current is not None
        assert one.model.current.id != two.model.current.id
        assert one.model.current.number != two.model.current.number
        state = await one.session.client.state()
        called = sorted((t.counter, t.id) for t in state.tickets if t.state == "called")
        assert called == sorted([("w1", one.model.current.id), ("w2", two.model.current.id)])
        assert sum(t.state == "waiting" for t in state.tickets) == 1


# ---------------------------------------------------------------- restart


async def test_server_restart_under_the_app_resyncs_and_keeps_working(
    server: RunningServer,
) -> None:
    async with counter_app(server) as (app, pilot, recorder):
        await pilot.pause()
        assert not recorder.saw("again"), "a first connection is not a reconnection"
        token = app.session.token
        await server.restart()
        await until(lambda: recorder.saw("Lost the connection"), what="the loss is shown")
        await until(lambda: recorder.saw("Connected to the server again"), what="healed")
        await until(lambda: app.model.connected, what="reconnected")
        await server.kiosk().check_in(visitor("restart-001", name="Li Wei", address_as="mx"))
        await until(lambda: app.model.allows("call_next"), what="the new visitor arrives")
        await pilot.press("c")
        await until(lambda: app.model.current is not None, what="called after the restart")
        assert "Mx. Wei" in visitor_text(app)
        assert app.session.token == token, "the session outlived the restart"
        assert isinstance(app.screen, DeskScreen)


# ------------------------------------------------------------------ quit


async def test_quitting_closes_the_counter_and_ends_the_session(server: RunningServer) -> None:
    supervisor = await server.staff("super")
    async with counter_app(server) as (app, pilot, _):
        token = app.session.token
        await pilot.press("ctrl+q")
        await until(lambda: app.return_code is not None, what="the app exits")
    counters = {c.id: c for c in (await supervisor.state()).counters}
    assert counters["w1"].state == "closed", "an empty counter must not count as idle"
    stale = server.client(token)
    with pytest.raises(ApiError) as refused:
        await stale.state()
    assert refused.value.status == 401


async def test_quitting_with_a_visitor_asks_first_and_leaves_the_counter_open(
    server: RunningServer,
) -> None:
    await server.kiosk().check_in(visitor("quit-00001"))
    supervisor = await server.staff("super")
    async with counter_app(server) as (app, pilot, _):
        await pilot.press("c")
        await until(lambda: app.model.current is not None, what="a visitor is called")
        await pilot.press("ctrl+q")
        await until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, DeskScreen), what="back at the desk")
        assert app.return_code is None
        await pilot.press("ctrl+q")
        await until(lambda: isinstance(app.screen, ConfirmScreen), what="the question again")
        await pilot.press("y")
        await until(lambda: app.return_code is not None, what="the app exits")
    counters = {c.id: c for c in (await supervisor.state()).counters}
    assert counters["w1"].state == "calling", "the visitor is not dropped by a quit"
