"""The wait forecast: the calling rule played forward, on cases small enough to work by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.config import load_config
from server.engine import Engine
from server.forecast import Desk, Line, forecast, typical_minutes, wait_range

OFFICE = load_config(Path(__file__).parent / "office.toml")


def line(service: str, waited: list[float], service_min: float, target: float = 10) -> Line:
    ids = tuple(hash((service, i)) & 0xFFFF for i in range(len(waited)))
    return Line(service, ids, tuple(waited), target, service_min)


def test_a_free_counter_means_no_wait() -> None:
    made = forecast([Desk("w1", ("permits",), 0.0), Desk("w2", ("permits",), 0.0)], [])
    assert made.next_arrival_min == {}
    permits = line("permits", [3.0], service_min=8)
    made = forecast([Desk("w1", ("permits",), 0.0), Desk("w2", ("permits",), 0.0)], [permits])
    assert made.call_in_min[permits.ids[0]] == 0.0
    assert made.next_arrival_min["permits"] == 0.0, "the second counter is still free"
    shown = wait_range(0.0, made.next_arrival_depth["permits"], 8, 0.5)
    assert (shown.low, shown.high) == (0, 2)


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
    assert made.next_arrival_min == {"billing": 4.0, "permits": 24.0}


def test_a_counter_on_break_is_counted_from_its_return() -> None:
    records = line("records", [2.0, 1.0], service_min=10)
    made = forecast([Desk("w3", ("records",), 11.0)], [records])
    assert [made.call_in_min[i] for i in records.ids] == [11.0, 21.0]
    assert made.depth[records.ids[0]] == 1, "the rest of the break is one uncertain stretch"


def test_nobody_serving_a_service_gives_no_forecast_for_it() -> None:
    made = forecast([Desk("w4", ("billing",), 0.0)], [line("records", [1.0], 10)])
    assert made.next_arrival_min["records"] is None
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
    assert engine.estimate("records", at(4), wheelchair).point == 0.0
    assert [engine.estimate("records", at(4), t).point for t in early] == [10.0, 20.0, 30.0]
    assert engine.estimate("records", at(4)).point == 40.0


def test_typical_minutes_leave_out_the_extremes_and_wait_for_five_visits() -> None:
    assert typical_minutes([3.0, 4.0, 5.0, 6.0], configured=8.0) == (8.0, 0.5)
    minutes, cv = typical_minutes([4.0] * 9 + [90.0], configured=8.0)
    assert minutes == 4.0, "one visit of an hour and a half does not move the typical time"
    assert cv == 1.0, "but it does widen the range, up to the cap"


# Counters and lines drawn at random, all services with the same target (the office default);
# then visitors check in one after another at the ends of their lines.
desks_drawn = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True),
        st.sampled_from([0.0, 0.0, 1.5, 4.0, 12.0]),
    ),
    min_size=1,
    max_size=4,
)
lines_drawn = st.fixed_dictionaries(
    {s: st.lists(st.integers(0, 40), max_size=6) for s in ("a", "b", "c")}
)
arrivals_drawn = st.lists(st.sampled_from(["a", "b", "c"]), max_size=6)
MINUTES = {"a": 8.0, "b": 4.0, "c": 10.0}


@settings(max_examples=300, deadline=None)
@given(desks=desks_drawn, waits=lines_drawn, arrivals=arrivals_drawn)
def test_joining_the_end_of_a_line_is_what_a_whole_forecast_gives(
    desks: list[tuple[list[str], float]], waits: dict[str, list[int]], arrivals: list[str]
) -> None:
    counters = [Desk(f"d{i}", tuple(s), free) for i, (s, free) in enumerate(desks)]
    ids = iter(range(1000))
    queues = {s: [(float(w), next(ids)) for w in sorted(waits[s], reverse=True)] for s in waits}

    def lines() -> list[Line]:
        return [
            Line(s, tuple(i for _, i in q), tuple(w for w, _ in q), 10.0, MINUTES[s])
            for s, q in queues.items()
        ]

    joined = forecast(counters, lines())
    for n, service in enumerate(arrivals):
        ticket_id = next(ids)
        queues[service].append((-0.5 * (n + 1), ticket_id))  # each arrives after the last
        joined.join(service, ticket_id, MINUTES[service])
    whole = forecast(counters, lines())
    assert joined.call_in_min == whole.call_in_min
    assert joined.next_arrival_min == whole.next_arrival_min
    assert joined.depth == whole.depth
