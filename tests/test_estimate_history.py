"""The interval between completions is exactly what re-sorting every counter's history gives.

The engine keeps recent completions in order as they happen instead of sorting them on every
estimate. These tests hold it to the plain definition, computed from scratch: each counter's
last completions within the window, pooled over the counters serving the service. Times jump
back as well as forward, cross the night clocks fall back, and the question may be asked about
any moment, including one before the latest completion.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.config import load_config
from server.engine import HISTORY_MIN_COMPLETIONS, HISTORY_WINDOW, Engine

OFFICE = load_config(Path(__file__).parent / "office.toml")
# 2026-11-01 07:00 UTC is 01:00 CST, just after Chicago's clocks fell back
FALL_BACK = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
COUNTERS = tuple(c.id for c in OFFICE.counters)


def local(seconds: int) -> datetime:
    """The office's own time, as the server hands it to the engine."""
    return (FALL_BACK + timedelta(seconds=seconds)).astimezone(OFFICE.tz)


def interval_from_scratch(engine: Engine, service: str, now: datetime) -> float:
    counters = [c for c in engine.counters.values() if service in c.services]
    recent = sorted(
        t for c in counters for t in engine.completions[c.id] if now - t <= HISTORY_WINDOW
    )
    if len(recent) >= HISTORY_MIN_COMPLETIONS:
        span = (recent[-1] - recent[0]).total_seconds() / 60
        if span > 0:
            return span / (len(recent) - 1)
    staffed = sum(1 for c in counters if c.state in ("open", "calling", "serving"))
    return engine.services[service].mean_service_min / max(1, staffed)


def serve_one(engine: Engine, counter_id: str, now: datetime, visit: int) -> None:
    engine.open_counter(now, counter_id, "staff")
    service = engine.counters[counter_id].services[0]
    engine.check_in(now, service=service, request_id=f"r{visit}", status_token=f"s{visit}")
    ticket, _ = engine.call_next(now, counter_id)
    engine.start(now, ticket.id)
    engine.complete(now, ticket.id, True, None, "staff")


# Runs of visits at one counter, on a grid of minutes so that completions often fall exactly
# on the edge of the window, and long enough that counters forget their oldest completions.
runs = st.lists(
    st.tuples(
        st.sampled_from(COUNTERS),
        st.integers(1, 25),  # visits in the run
        st.integers(-180, 180),  # minute of the first completion
        st.integers(-7, 7),  # minutes between completions (back, none or forward)
        st.integers(-240, 300),  # minute the estimate is asked about afterwards
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(runs=runs)
def test_the_interval_is_what_sorting_every_counters_history_gives(
    runs: list[tuple[str, int, int, int, int]],
) -> None:
    engine = Engine(OFFICE)
    visit = 0
    for counter_id, count, first, step, asked in runs:
        for n in range(count):
            done_at = local(60 * (first + n * step))
            serve_one(engine, counter_id, done_at, visit)
            visit += 1
            for moment in (done_at, local(60 * asked), local(60 * (asked + n))):
                for service in engine.services:
                    expected = interval_from_scratch(engine, service, moment)
                    assert engine.completion_interval_min(service, moment) == expected


def test_a_counter_forgets_its_oldest_completions_beyond_thirty() -> None:
    engine = Engine(OFFICE)
    moments = [60 * m for m in range(10)] + [600 + 10 * s for s in range(30)]
    for visit, seconds in enumerate(moments):  # slow at first, then one every 10 s
        serve_one(engine, "w4", local(seconds), visit)
    moment = local(1000)
    assert len(engine.completions["w4"]) == 30
    assert engine.completion_interval_min("billing", moment) == (290 / 60) / 29
    assert engine.completion_interval_min("billing", moment) == interval_from_scratch(
        engine, "billing", moment
    )
