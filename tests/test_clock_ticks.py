"""The clock's patches skip visitors whose figures cannot have moved yet: they must never
skip one whose figures did move."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server import presenters as present
from server.config import load_config
from server.engine import Engine
from server.forecast import wait_range
from server.publisher import Publisher

OFFICE = load_config(Path(__file__).parent / "office.toml")
MARGIN = 1e-9
"""Minutes of float rounding (the publisher looks again a millisecond early)."""


@settings(max_examples=300, deadline=None)
@given(
    call=st.floats(0, 240),
    depth=st.floats(0, 60),
    minutes=st.floats(0.5, 30),
    cv=st.floats(0.25, 1.0),
    share=st.floats(0, 1),
)
def test_a_range_holds_while_the_call_comes_no_closer_than_its_steady_minutes(
    call: float, depth: float, minutes: float, cv: float, share: float
) -> None:
    shown = wait_range(call, depth, minutes, cv)
    if math.isinf(shown.steady_min):
        later = wait_range(0.0, depth, minutes, cv)
    else:
        closer = max(0.0, call - max(0.0, shown.steady_min * share - MARGIN))
        later = wait_range(closer, depth, minutes, cv)
    assert (later.low, later.high) == (shown.low, shown.high)


@settings(max_examples=300, deadline=None)
@given(waited=st.floats(0, 90), target=st.integers(1, 30), share=st.floats(0, 1))
def test_a_wait_keeps_its_minute_and_colour_for_its_steady_minutes(
    waited: float, target: int, share: float
) -> None:
    steady = present.steady_wait_min(waited, target)
    later = waited + max(0.0, steady * share - MARGIN)
    assert int(later) == int(waited)
    assert present.wait_level(later, target) == present.wait_level(waited, target)


def at(minute: float) -> datetime:
    return datetime(2026, 11, 2, 9, 0, tzinfo=OFFICE.tz) + timedelta(minutes=minute)


def shown_figures(publisher: Publisher, engine: Engine, now: datetime) -> list[str]:
    """Each waiting visitor whose figures on the staff screens differ from the engine's."""
    wrong = []
    for ticket in engine.open_tickets():
        if ticket.state != "waiting":
            continue
        fresh = present.ticket_view(engine, ticket, "clerk", now)
        view = publisher.decided["staff"].tickets[ticket.id]
        if (view.waited_min, view.wait_level, view.estimate) != (
            fresh.waited_min,
            fresh.wait_level,
            fresh.estimate,
        ):
            wrong.append(f"{ticket.number}: shown {view} now {fresh}")
    return wrong


@settings(max_examples=25, deadline=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(["arrive", "arrive", "arrive", "call", "finish", "open", "break"]),
            st.sampled_from(["w1", "w2", "w3"]),
            st.sampled_from(["permits", "billing", "records"]),
            st.integers(0, 90),
        ),
        min_size=5,
        max_size=40,
    )
)
def test_every_figure_the_clock_moves_reaches_the_screens(
    moves: list[tuple[str, str, str, int]],
) -> None:
    """Moves every few seconds to minutes apart, a tick every two seconds in between: after
    each tick, every waiting visitor's wait, colour and estimate are what the engine says."""
    engine = Engine(OFFICE)
    publisher = Publisher(engine)
    publisher.start(at(0), 0)
    seconds = 0.0
    for n, (move, counter_id, service_id, later) in enumerate(moves):
        for _ in range(later // 2):
            seconds += 2
            now = at(seconds / 60)
            out = publisher.tick(now)
            if out is not None:
                publisher.publish(out)
            assert shown_figures(publisher, engine, now) == []
        seconds += later % 2
        now = at(seconds / 60)
        counter = engine.counters[counter_id]
        events = []
        if move == "arrive":
            events = engine.check_in(
                now, service=service_id, request_id=f"r{n:08d}", status_token=f"s{n:08d}"
            )[1]
        elif move == "open" and counter.state in ("closed", "break"):
            events = engine.open_counter(now, counter_id, "ana")
        elif move == "break" and counter.state == "open":
            events = engine.take_break(now, counter_id)
        elif move == "call" and counter.state == "open" and engine.eligible_waiting(counter):
            events = engine.call_next(now, counter_id)[1]
        elif move == "finish" and counter.ticket is not None:
            ticket = engine.tickets[counter.ticket]
            if ticket.state == "called":
                events += engine.start(now, ticket.id)
            events += engine.complete(now, ticket.id, True, None, "ana")
        if events:
            publisher.publish(publisher.decide(events, n + 1, now))
