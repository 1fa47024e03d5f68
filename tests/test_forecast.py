"""The wait forecast: the calling rule played forward, on cases small enough to work by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from server.config import load_config
from server.engine import Engine
from server.forecast import Desk, Line, forecast, typical_minutes, wait_range

OFFICE = load_config(Path(__file__).parent / "office.toml")


def line(service: str, waited: list[float], service_min: float, target: float = 10) -> Line:
    ids = tuple(hash((service, i)) & 0xFFFF for i in range(len(waited)))
    return Line(service, ids, tuple(waited), target, service_min)


def test_a_free_counter_means_no_wait() -> None:
    permits = line("permits", [3.0], service_min=8)
    made = forecast([Desk("w1", ("permits",), 0.0), Desk("w2", ("permits",), 0.0)], [permits])
    assert made.call_in_min[permits.ids[0]] == 0.0
    assert made.next_arrival("permits") == (0.0, 0.0), "the second counter is still free"
    shown = wait_range(0.0, 0.0, 8, 0.5)
    assert (shown.low, shown.high, shown.point) == (0, 2, 0.0)


def test_a_shared_counter_splits_its_time_by_the_calling_rule() -> None:
    """A serves permits then billing, B billing only; the same target for both.

    0:00  A takes billing #1 (waited 6 > permits' 5), B takes billing #2; both busy to 0:04.
    0:04  A takes permits #1 (billing is empty), busy to 0:14; B has nothing left.
    0:14  A takes permits #2, busy to 0:24.
    A billing visitor checking in now waits for B (free at 0:04), not behind permits.
    """
    permits = line("permits", [5.0, 4.0], service_min=10)
    billing = line("billing", [6.0, 1.0], service_min=4)
    desks = [Desk("A", ("permits", "billing"), 0.0), Desk("B", ("billing",), 0.0)]
    made = forecast(desks, [permits, billing])
    assert [made.call_in_min[i] for i in billing.ids] == [0.0, 0.0]
    assert [made.call_in_min[i] for i in permits.ids] == [4.0, 14.0]
    assert made.next_arrival("billing") == (4.0, 1.0)
    assert made.next_arrival("permits") == (24.0, 3.0)


def test_a_counter_on_break_is_counted_from_its_return() -> None:
    records = line("records", [2.0, 1.0], service_min=10)
    made = forecast([Desk("w3", ("records",), 11.0)], [records])
    assert [made.call_in_min[i] for i in records.ids] == [11.0, 21.0]
    assert made.depth[records.ids[0]] == 1, "the rest of the break is one uncertain stretch"


def test_nobody_serving_a_service_gives_no_forecast_for_it() -> None:
    made = forecast([Desk("w4", ("billing",), 0.0)], [line("records", [1.0], 10)])
    assert made.next_arrival("records") is None
    assert made.call_in_min == {}


def at(minute: float) -> datetime:
    return datetime(2026, 11, 2, 9, 0, tzinfo=OFFICE.tz) + timedelta(minutes=minute)


def test_a_priority_visitor_is_forecast_ahead_of_longer_waits() -> None:
    """A wheelchair user's ten-minute head start puts them ahead of three who came earlier:
    the one counter (records first, 10 minutes a visit) calls them first."""
    engine = Engine(OFFICE)
    engine.open_counter(at(0), "w3", "ana")
    early = [
        engine.check_in(at(m), service="records", request_id=f"r{m}", status_token=f"s{m}")[0]
        for m in range(3)
    ]
    wheelchair, _ = engine.check_in(
        at(4), service="records", request_id="rw", status_token="sw", needs=("wheelchair",)
    )
    assert wheelchair.priority
    made, _ = engine.forecast(at(4))
    assert made.call_in_min[wheelchair.id] == 0.0
    assert [made.call_in_min[t.id] for t in early] == [10.0, 20.0, 30.0]
    assert made.next_arrival("records") == (40.0, 4.0)
    # the points err high by a quarter of the call (what the forecast cannot see)
    assert [engine.estimate("records", at(4), t).point for t in early] == [12.5, 25.0, 37.5]


def test_typical_minutes_leave_out_the_extremes_and_wait_for_five_visits() -> None:
    assert typical_minutes([3.0, 4.0, 5.0, 6.0], configured=8.0) == (8.0, 0.5)
    minutes, cv = typical_minutes([4.0] * 9 + [90.0], configured=8.0)
    assert minutes == 4.0, "one visit of an hour and a half does not move the typical time"
    assert cv == 1.0, "but it does widen the range, up to the cap"


def test_visitors_still_to_come_with_a_shorter_target_are_called_first() -> None:
    """A permits visitor (target 10) has waited a minute for w1, busy until 0:06; billing
    (target 5) visitors check in every two minutes. At 0:06 the one who came at 0:02 has waited
    4 of 5 minutes, the permits visitor 7 of 10: billing is called first, and the next one too."""
    permits = Line("permits", (1,), (1.0,), 10.0, 8.0)
    quiet = Line("billing", (), (), 5.0, 4.0)
    busy = Line("billing", (), (), 5.0, 4.0, arrivals_per_min=0.5)
    desk = [Desk("w1", ("permits", "billing"), 6.0)]
    alone = forecast(desk, [permits, quiet])
    crowded = forecast(desk, [permits, busy])
    assert alone.call_in_min[1] == 6.0
    assert crowded.call_in_min[1] >= 14.0
    assert alone.next_arrival("billing") == (6.0, 1.0), "one checking in now goes first too"


def test_a_visitor_checking_in_gets_the_call_the_forecast_expected() -> None:
    billing = Line("billing", (1, 2), (4.0, 1.0), 5.0, 4.0, arrivals_per_min=0.2)
    made = forecast([Desk("w4", ("billing",), 1.0)], [billing])
    expected = made.next_arrival("billing")
    assert expected is not None
    made.join("billing", 3, 4.0)
    assert (made.call_in_min[3], made.depth[3]) == expected
    later = made.next_arrival("billing")
    assert later is not None and later[0] > expected[0]


# Offices drawn at random (counters open, serving, on break; visitors waiting): the estimate a
# kiosk shows for a service is the one the ticket then carries.
moves = st.lists(
    st.tuples(
        st.sampled_from(["arrive", "arrive", "arrive", "call", "finish", "break", "open"]),
        st.sampled_from([c.id for c in OFFICE.counters]),
        st.sampled_from([s.id for s in OFFICE.services]),
        st.integers(0, 5),  # minutes later
    ),
    max_size=30,
)


Move = tuple[str, str, str, int]


def moments(moves: list[Move]) -> Iterator[tuple[int, str, str, str, datetime]]:
    """Each move of a generated morning with its moment."""
    minute = 0.0
    for n, (move, counter_id, service_id, later) in enumerate(moves):
        minute += later
        yield n, move, counter_id, service_id, at(minute)


def act(engine: Engine, move: str, counter_id: str, now: datetime) -> None:
    """A counter's move of a generated morning, where the counter's state allows it."""
    counter = engine.counters[counter_id]
    if move == "open" and counter.state in ("closed", "break"):
        engine.open_counter(now, counter_id, "ana")
    elif move == "break" and counter.state == "open":
        engine.take_break(now, counter_id)
    elif move == "call" and counter.state == "open" and engine.eligible_waiting(counter):
        engine.call_next(now, counter_id)
    elif move == "finish" and counter.ticket is not None:
        ticket = engine.tickets[counter.ticket]
        if ticket.state == "called":
            engine.start(now, ticket.id)
        engine.complete(now, ticket.id, True, None, "ana")


@settings(max_examples=150, deadline=None)
@given(moves=moves)
def test_the_kiosks_estimate_is_the_one_the_ticket_carries(
    moves: list[tuple[str, str, str, int]],
) -> None:
    engine = Engine(OFFICE)
    for n, move, counter_id, service_id, now in moments(moves):
        if move == "arrive":
            shown = engine.estimate(service_id, now)
            ticket, _ = engine.check_in(
                now, service=service_id, request_id=f"r{n}", status_token=f"s{n}"
            )
            assert ticket.quoted == shown
            assert engine.estimate(service_id, now, ticket) == shown
            kept = engine.estimate_and_steady(service_id, now, ticket)
            engine._estimates.clear()  # the quote kept for the ticket, against one worked out
            engine._ranges.clear()
            assert engine.estimate_and_steady(service_id, now, ticket) == kept
        else:
            act(engine, move, counter_id, now)


@settings(max_examples=100, deadline=None)
@given(moves=moves, seconds=st.lists(st.integers(0, 29), min_size=1, max_size=4))
@example(  # a range whose next change falls, to the last bit, on the moment it is asked for
    moves=[
        ("open", "w4", "records", 3),
        ("arrive", "w4", "records", 4),
        ("open", "w4", "permits", 2),
        ("open", "w4", "permits", 1),
        ("arrive", "w1", "records", 0),
        ("open", "w3", "records", 5),
        ("arrive", "w3", "records", 3),
    ],
    seconds=[24],
)
def test_a_kept_range_is_the_one_worked_out_afresh_as_the_clock_moves(
    moves: list[tuple[str, str, str, int]], seconds: list[int]
) -> None:
    """Ranges are kept across check-ins and clock steps (``KeptRange``); at any moment while
    their forecast is held they are what working them out again from it gives."""
    engine = Engine(OFFICE)
    for n, move, counter_id, service_id, now in moments(moves):
        if move == "arrive":
            engine.check_in(now, service=service_id, request_id=f"r{n}", status_token=f"s{n}")
        else:
            act(engine, move, counter_id, now)
        waiting = [t for t in engine.tickets.values() if t.state == "waiting"]
        for second in sorted(seconds):
            moment = now + timedelta(seconds=second)
            kept = [engine.estimate_and_steady(t.service, moment, t) for t in waiting]
            engine._estimates.clear()
            engine._ranges.clear()  # the same forecast, every range worked out again
            fresh = [engine.estimate_and_steady(t.service, moment, t) for t in waiting]
            assert [e for e, _ in kept] == [e for e, _ in fresh]
            for (_, steady_kept), (_, steady_fresh) in zip(kept, fresh, strict=True):
                assert steady_kept == pytest.approx(steady_fresh, abs=1e-6)
