"""Which calls the display announces: each new call once, history never."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from display.calls import CallBoard
from lobby import protocol as p

CHICAGO = timezone(timedelta(hours=-6))
NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=CHICAGO)


def call(number: str, counter: str, seconds_ago: float, recall: int = 0) -> p.CallView:
    at = (NOW - timedelta(seconds=seconds_ago)).isoformat(timespec="seconds")
    return p.CallView(0, at, number, "permits", counter, f"Window {counter[1:]}", recall)


def snapshot(calls: list[p.CallView], now: datetime = NOW) -> p.StateSnapshot:
    office = p.OfficeView("Test", "America/Chicago", ["en"], "", 30, "http://x")
    return p.StateSnapshot(
        seq=1,
        now=now.isoformat(),
        role="display",
        office=office,
        services=[],
        counters=[],
        recent_calls=calls,
    )


def event(c: p.CallView, seq: int = 2) -> p.StreamEvent:
    return p.StreamEvent(seq=seq, type="event", kind="ticket.called", at=c.at, services=[], call=c)


def numbers(calls: list[p.CallView]) -> list[str]:
    return [c.number for c in calls]


def test_first_snapshot_is_history_and_never_announced() -> None:
    board = CallBoard()
    assert board.snapshot(snapshot([call("P-002", "w1", 5), call("P-001", "w2", 8)]), NOW) == []
    assert numbers(board.calls) == ["P-002", "P-001"]


def test_a_new_call_is_announced_once() -> None:
    board = CallBoard()
    board.snapshot(snapshot([]), NOW)
    fresh = call("P-001", "w1", 0)
    assert numbers(board.event(event(fresh), NOW)) == ["P-001"]
    assert board.event(event(fresh, seq=3), NOW) == []
    assert numbers(board.calls) == ["P-001"]


def test_a_recall_is_announced_again_and_keeps_one_line() -> None:
    board = CallBoard()
    board.snapshot(snapshot([call("P-001", "w1", 30), call("P-002", "w2", 20)]), NOW)
    assert numbers(board.event(event(call("P-001", "w1", 0, recall=1)), NOW)) == ["P-001"]
    assert numbers(board.calls) == ["P-001", "P-002"]
    assert board.calls[0].recall == 1


def test_a_call_that_arrives_late_is_shown_but_not_announced() -> None:
    board = CallBoard()
    board.snapshot(snapshot([]), NOW)
    assert board.event(event(call("P-001", "w1", 600)), NOW) == []
    assert numbers(board.calls) == ["P-001"]


def test_resync_snapshot_announces_only_fresh_calls_not_seen_before() -> None:
    board = CallBoard()
    seen = call("P-001", "w1", 40)
    board.snapshot(snapshot([seen]), NOW)
    later = NOW + timedelta(seconds=20)
    missed = call("P-002", "w2", -15)
    old = call("P-000", "w3", 500)
    new = board.snapshot(snapshot([missed, seen, old], later), later)
    assert numbers(new) == ["P-002"]


def test_the_display_clock_may_be_wrong() -> None:
    board = CallBoard()
    skewed = NOW + timedelta(minutes=10)  # the terminal's clock runs ten minutes fast
    board.snapshot(snapshot([]), skewed)
    assert numbers(board.event(event(call("P-001", "w1", 1)), skewed)) == ["P-001"]


def test_at_most_eight_calls_are_shown_newest_first() -> None:
    board = CallBoard()
    board.snapshot(snapshot([]), NOW)
    for i in range(12):
        board.event(event(call(f"P-{i:03d}", "w1", 12 - i), seq=i + 2), NOW)
    assert numbers(board.calls) == [f"P-{i:03d}" for i in range(11, 3, -1)]
