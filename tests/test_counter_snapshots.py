"""How the counter's screens look, from a fixed office state (no server, no clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from counter.app import CounterApp
from lobby import protocol as p
from tests.test_counter_model import garcia, number_only, snapshot

SIZE = (120, 36)
Before = Callable[[Pilot[Any]], Awaitable[None]]


def desk(state: p.StateSnapshot) -> CounterApp:
    return CounterApp("http://127.0.0.1:9", "w1", clock=lambda: 0.0, preview=state)


def pressing(*keys: str) -> Before:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    return run


def test_sign_in_screen(snap_compare: Any) -> None:
    app = CounterApp("http://127.0.0.1:9", "w1")
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing())


def test_closed_counter(snap_compare: Any) -> None:
    state = snapshot("closed", waiting=(0, 0), longest=(0, 0))
    assert snap_compare(desk(state), terminal_size=SIZE)


def test_open_and_idle_with_visitors_waiting_shows_the_banner(snap_compare: Any) -> None:
    assert snap_compare(desk(snapshot("open")), terminal_size=SIZE)


def test_calling_a_visitor_who_gave_no_name(snap_compare: Any) -> None:
    state = snapshot("calling", number_only(), waiting=(2, 0), longest=(8.5, 0))
    assert snap_compare(desk(state), terminal_size=SIZE)


def test_serving_a_named_visitor_with_needs(snap_compare: Any) -> None:
    assert snap_compare(desk(snapshot("serving", garcia())), terminal_size=SIZE)


def test_on_break_with_visitors_waiting_has_no_idle_banner(snap_compare: Any) -> None:
    assert snap_compare(desk(snapshot("break")), terminal_size=SIZE)


def test_lost_connection_banner(snap_compare: Any) -> None:
    async def disconnect(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CounterApp)
        app.connected = False
        app.refresh_desk()
        await pilot.pause()

    assert snap_compare(desk(snapshot("open")), terminal_size=SIZE, run_before=disconnect)


def test_complete_asks_whether_needs_were_met(snap_compare: Any) -> None:
    app = desk(snapshot("serving", garcia()))
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("d"))


def test_safety_alert_confirmation_is_discreet(snap_compare: Any) -> None:
    app = desk(snapshot("serving", garcia()))
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("ctrl+e"))
