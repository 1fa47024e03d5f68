"""The queue rules one at a time, each as the office standard states it.

Plain unit tests of :mod:`server.engine` with hand-picked times; the random sequences live in
``test_engine_properties.py``. Tests marked ``xfail(strict=True)`` pin a known engine bug: they
start passing (and so fail the run) once the bug is fixed, as a reminder to drop the marker.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from server.config import OfficeConfig, load_config, parse_config
from server.engine import Engine, Event, Refused, Ticket
from server.store.encoding import decode_event, encode_event

OFFICE = load_config(Path(__file__).parent / "office.toml")
TZ = OFFICE.tz
DAY = date(2026, 11, 23)


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute, second), TZ)


class Desk:
    """An engine plus the log it wrote, with short names for the usual steps."""

    def __init__(self, config: OfficeConfig = OFFICE) -> None:
        self.engine = Engine(config)
        self.log: list[Event] = []
        self.requests = 0

    def arrive(
        self,
        now: datetime,
        service: str = "permits",
        needs: tuple[str, ...] = (),
        appointment: bool = False,
        request_id: str | None = None,
    ) -> Ticket:
        self.requests += 1
        request_id = request_id or f"req-{self.requests:05d}"
        ticket, events = self.engine.check_in(
            now,
            service=service,
            request_id=request_id,
            status_token=f"status-{request_id}",
            needs=needs,
            appointment=appointment,
        )
        self.log += events
        return ticket

    def open(self, now: datetime, *counters: str) -> None:
        for counter in counters:
            self.log += self.engine.open_counter(now, counter, f"staff-{counter}")

    def call(self, now: datetime, counter: str) -> Ticket:
        ticket, events = self.engine.call_next(now, counter)
        self.log += events
        return ticket

    def serve(self, now: datetime, counter: str) -> Ticket:
        """Call, start and complete the next visitor at ``counter``."""
        ticket = self.call(now, counter)
        self.log += self.engine.start(now, ticket.id)
        self.log += self.engine.complete(now, ticket.id, True, None, "staff")
        return ticket


def numbers(tickets: list[Ticket]) -> list[str]:
    return [t.number for t in tickets]


# ------------------------------------------------------------------ fairness


def test_first_come_first_served_within_a_service() -> None:
    desk = Desk()
    arrivals = [desk.arrive(at(9, m)) for m in (0, 1, 2)]
    desk.open(at(9, 5), "w1")
    called = [desk.serve(at(9, 5 + i), "w1") for i in range(3)]
    assert numbers(called) == numbers(arrivals) == ["P-001", "P-002", "P-003"]


def test_priority_visitor_goes_ahead_of_those_who_arrived_within_the_head_start() -> None:
    desk = Desk()
    desk.arrive(at(9, 0))
    wheelchair = desk.arrive(at(9, 9), needs=("wheelchair",))
    desk.open(at(9, 10), "w1")
    assert wheelchair.priority
    assert desk.call(at(9, 10), "w1").id == wheelchair.id


def test_priority_never_overtakes_someone_who_waited_longer_than_the_head_start() -> None:
    desk = Desk()
    first = desk.arrive(at(9, 0))
    desk.arrive(at(9, 11), needs=("seated",))
    desk.open(at(9, 12), "w1")
    assert desk.call(at(9, 12), "w1").id == first.id


def test_only_configured_needs_and_appointments_give_priority() -> None:
    desk = Desk()
    assert not desk.arrive(at(9, 0), needs=("hearing", "interpreter")).priority
    assert desk.arrive(at(9, 0), appointment=True).priority
    text = (Path(__file__).parent / "office.toml").read_text()
    no_appointments = parse_config(text + "\n[priority]\nappointment = false\n")
    assert not Desk(no_appointments).arrive(at(9, 0), appointment=True).priority


def test_counter_calls_the_service_furthest_past_its_target() -> None:
    desk = Desk()
    permits = desk.arrive(at(9, 0), "permits")  # target 10 min: 6/10 of it at 9:06
    billing = desk.arrive(at(9, 2), "billing")  # target 5 min: 4/5 of it at 9:06
    desk.open(at(9, 6), "w1")  # prefers permits, but billing is more urgent
    assert desk.call(at(9, 6), "w1").id == billing.id
    desk.open(at(9, 6), "w2")
    assert desk.call(at(9, 6), "w2").id == permits.id


def test_equal_urgency_follows_the_counters_order_of_preference() -> None:
    desk = Desk()
    permits = desk.arrive(at(8, 55), "permits")  # 10 of 10 min at 9:05
    desk.arrive(at(9, 0), "billing")  # 5 of 5 min at 9:05
    desk.open(at(9, 5), "w1")
    assert desk.call(at(9, 5), "w1").id == permits.id


def test_transfer_keeps_the_original_arrival() -> None:
    desk = Desk()
    early = desk.arrive(at(9, 0), "permits")
    desk.open(at(9, 1), "w3")
    assert desk.call(at(9, 1), "w3").id == early.id
    desk.log += desk.engine.start(at(9, 2), early.id)
    later = desk.arrive(at(9, 5), "billing")
    desk.log += desk.engine.transfer(at(9, 20), early.id, "billing", "needs a refund", "clerk")
    assert early.state == "waiting" and early.arrived_at == at(9, 0)
    assert desk.engine.position(early) == 1 and desk.engine.position(later) == 2
    desk.open(at(9, 21), "w4")
    assert desk.call(at(9, 21), "w4").id == early.id
    assert [n.text for n in early.notes] == ["needs a refund"]


# ------------------------------------------------------ one visitor at a time


def test_two_counters_never_call_the_same_visitor() -> None:
    desk = Desk()
    only = desk.arrive(at(9, 0), "billing")
    desk.open(at(9, 1), "w1", "w2")
    assert desk.call(at(9, 1), "w1").id == only.id
    with pytest.raises(Refused) as refused:
        desk.call(at(9, 1), "w2")
    assert refused.value.kind == "conflict"
    assert desk.engine.counters["w2"].ticket is None


def test_a_counter_holds_one_visitor_until_it_is_finished() -> None:
    desk = Desk()
    first = desk.arrive(at(9, 0))
    desk.arrive(at(9, 0))
    desk.open(at(9, 1), "w1")
    desk.call(at(9, 1), "w1")
    for refused_command in (
        lambda: desk.engine.call_next(at(9, 2), "w1"),
        lambda: desk.engine.take_break(at(9, 2), "w1"),
        lambda: desk.engine.close_counter(at(9, 2), "w1"),
        lambda: desk.engine.open_counter(at(9, 2), "w1", "someone-else"),
    ):
        with pytest.raises(Refused):
            refused_command()
    assert desk.engine.counters["w1"].ticket == first.id
    assert desk.engine.counters["w1"].state == "calling"


def test_a_closed_or_resting_counter_calls_nobody() -> None:
    desk = Desk()
    desk.arrive(at(9, 0))
    with pytest.raises(Refused, match="closed"):
        desk.call(at(9, 1), "w1")
    desk.open(at(9, 1), "w1")
    desk.log += desk.engine.take_break(at(9, 1), "w1")
    with pytest.raises(Refused, match="on break"):
        desk.call(at(9, 2), "w1")


def test_recalls_are_counted_and_limited_by_the_service() -> None:
    desk = Desk()
    ticket = desk.arrive(at(9, 0))
    desk.open(at(9, 0), "w1")
    desk.call(at(9, 1), "w1")
    limit = OFFICE.service("permits").max_recalls  # type: ignore[union-attr]
    for i in range(limit):
        desk.log += desk.engine.recall(at(9, 2 + i), ticket.id)
    assert ticket.recalls == limit
    assert [c.recall for c in list(desk.engine.calls)[::-1][: limit + 1]] == list(
        range(limit, -1, -1)
    )
    with pytest.raises(Refused, match="no-show"):
        desk.engine.recall(at(9, 9), ticket.id)
    desk.log += desk.engine.no_show(at(9, 10), ticket.id)
    assert ticket.state == "no_show" and desk.engine.counters["w1"].state == "open"


def test_only_a_waiting_visitor_can_walk_away() -> None:
    desk = Desk()
    ticket = desk.arrive(at(9, 0))
    desk.open(at(9, 0), "w1")
    desk.call(at(9, 1), "w1")
    with pytest.raises(Refused, match="called"):
        desk.engine.cancel(at(9, 2), ticket.id)
    assert ticket.state == "called" and desk.engine.counters["w1"].ticket == ticket.id


def test_a_refused_command_changes_nothing() -> None:
    desk = Desk()
    ticket = desk.arrive(at(9, 0))
    before = (ticket.state, ticket.ended_at, desk.engine.clock, len(desk.engine.waiting["permits"]))
    for refused_command in (
        lambda: desk.engine.complete(at(9, 5), ticket.id, True, "x", "clerk"),
        lambda: desk.engine.start(at(9, 5), ticket.id),
        lambda: desk.engine.no_show(at(9, 5), ticket.id),
        lambda: desk.engine.transfer(at(9, 5), ticket.id, "billing", None, "clerk"),
        lambda: desk.engine.recall(at(9, 5), 99),
    ):
        with pytest.raises(Refused):
            refused_command()
    after = (ticket.state, ticket.ended_at, desk.engine.clock, len(desk.engine.waiting["permits"]))
    assert after == before


# ---------------------------------------------------------------- check-in


def test_numbers_count_per_service_and_start_again_each_day() -> None:
    desk = Desk()
    got = [desk.arrive(at(9, 0), s) for s in ("permits", "billing", "permits", "records")]
    assert numbers(got) == ["P-001", "B-001", "P-002", "R-001"]
    assert desk.arrive(at(8, 0, day=DAY + timedelta(days=1))).number == "P-001"


def test_a_retry_returns_the_same_ticket_and_logs_nothing() -> None:
    desk = Desk()
    first = desk.arrive(at(9, 0), request_id="kiosk-1-000001")
    again, events = desk.engine.check_in(
        at(9, 0, 5), service="permits", request_id="kiosk-1-000001", status_token="other"
    )
    assert again is first and events == []
    with pytest.raises(Refused) as refused:
        desk.engine.check_in(
            at(9, 1), service="billing", request_id="kiosk-1-000001", status_token="x"
        )
    assert refused.value.field == "client_request_id"
    assert desk.arrive(at(9, 2)).number == "P-002"


def test_unknown_service_or_language_is_refused() -> None:
    desk = Desk()
    with pytest.raises(Refused) as unknown:
        desk.engine.check_in(at(9, 0), service="passports", request_id="r-000001", status_token="t")
    assert (unknown.value.kind, unknown.value.field) == ("invalid", "service")
    with pytest.raises(Refused) as language:
        desk.engine.check_in(
            at(9, 0), service="permits", request_id="r-000002", status_token="t", language="fr"
        )
    assert language.value.field == "language"
    assert desk.engine.tickets == {}


HOURS = parse_config(
    """
    [office]
    name = "Hours"
    timezone = "America/Chicago"
    [[services]]
    id = "permits"
    name = "Permits"
    prefix = "P"
    mean_service_min = 30
    hours = "08:00-16:30"
    [[counters]]
    id = "w1"
    name = "Window 1"
    services = ["permits"]
    """
)


def test_check_in_follows_the_hours_and_warns_when_the_wait_runs_past_closing() -> None:
    desk = Desk(HOURS)
    assert desk.engine.service_state("permits", at(7, 59)) == "closed"
    with pytest.raises(Refused, match="closed"):
        desk.arrive(at(7, 59))
    assert desk.engine.service_state("permits", at(8, 0)) == "open"
    # 30 min visits, estimated to err high by a quarter: 37.5 min
    assert desk.engine.service_state("permits", at(15, 52)) == "open"  # done by 16:29:30
    assert desk.engine.service_state("permits", at(15, 53)) == "closing"
    assert desk.engine.service_state("permits", at(16, 1)) == "closing"
    assert desk.arrive(at(16, 1)).number == "P-001"  # still acknowledged
    assert desk.engine.service_state("permits", at(16, 30)) == "closed"
    desk.log += desk.engine.set_service_open(at(17, 0), "permits", True)
    assert desk.engine.service_state("permits", at(17, 0)) == "open"


def test_close_day_closes_every_open_visit_and_frees_the_counters() -> None:
    desk = Desk()
    called, serving, waiting = (desk.arrive(at(9, m)) for m in (0, 1, 2))
    desk.open(at(9, 3), "w1", "w3")
    desk.call(at(9, 3), "w1")
    desk.call(at(9, 3), "w3")
    desk.log += desk.engine.start(at(9, 4), serving.id)
    events = desk.engine.close_day(at(17, 0))
    assert events[0].data["ids"] == sorted([waiting.id, called.id, serving.id])
    assert {t.state for t in (waiting, called, serving)} == {"closed_at_end_of_day"}
    assert desk.engine.open_tickets() == [] and desk.engine.waiting["permits"] == []
    assert [desk.engine.counters[c].state for c in ("w1", "w3")] == ["open", "open"]
    assert desk.engine.close_day(at(17, 1)) == []


# ------------------------------------------------------- measures and quotes


def test_idle_while_waiting_counts_open_idle_seconds_with_someone_eligible_waiting() -> None:
    desk = Desk()
    desk.open(at(9, 0), "w1", "w3")
    engine = desk.engine
    desk.arrive(at(9, 1), "billing")  # w1 serves billing, w3 does not
    assert engine.idle_while_waiting("w1", at(9, 3)) == 120
    assert engine.idle_while_waiting("w3", at(9, 3)) == 0
    desk.log += engine.take_break(at(9, 4), "w1")
    assert engine.idle_while_waiting("w1", at(9, 30)) == 180
    desk.open(at(9, 30), "w1")
    desk.call(at(9, 31), "w1")
    assert engine.idle_while_waiting("w1", at(10, 0)) == 240


def test_positions_run_from_one_and_estimates_err_high() -> None:
    desk = Desk()
    tickets = [desk.arrive(at(9, m), "permits") for m in range(4)]
    engine = desk.engine
    assert [engine.position(t) for t in tickets] == [1, 2, 3, 4]
    quotes = [engine.estimate("permits", at(9, 5), t) for t in tickets]
    assert all(0 <= q.low < q.high and q.high >= q.point for q in quotes)
    assert [q.point for q in quotes] == sorted(q.point for q in quotes)
    assert tickets[-1].quoted is not None and tickets[-1].quoted.low >= 0


def test_with_no_counter_staffed_an_estimate_stands_until_one_opens() -> None:
    """Before a counter serving permits opens, a visitor's estimate is worked out as if one
    opened now, so the clock alone never moves it (nor a new visitor's quote): every screen
    keeps the one figure, across forecasts played afresh, until an event moves it."""
    desk = Desk()
    last = [desk.arrive(at(8, 0, s), "permits") for s in range(0, 50, 10)][-1]
    engine = desk.engine
    first, steady = engine.estimate_and_steady("permits", at(8, 1), last)
    assert steady == math.inf
    assert {engine.estimate("permits", at(8, 1, s), last) for s in range(0, 60, 5)} == {first}
    quote = engine.estimate("permits", at(8, 2))
    assert engine.estimate("permits", at(8, 2, 40)) == quote and quote.point > first.point
    desk.open(at(8, 3), "w1")
    opened = engine.estimate("permits", at(8, 3), last)
    assert opened.point < first.point  # four visits ahead of them at one counter, from now


def test_estimates_learn_each_services_time_at_a_counter() -> None:
    """Five billing visits of five minutes each (call to end; the configured mean is four) at
    the only counter serving billing alone: the next visitor's wait is what is left of the
    visit in hand."""
    desk = Desk()
    desk.open(at(9, 0), "w4")
    for m in range(7):
        desk.arrive(at(9, m), "billing")
    for start in range(0, 25, 5):
        ticket = desk.call(at(9, start), "w4")
        desk.log += desk.engine.start(at(9, start), ticket.id)
        desk.engine.estimate("billing", at(9, start))  # asked before each visit ends, as screens do
        desk.log += desk.engine.complete(at(9, start + 5), ticket.id, True, None, "staff")
    assert desk.engine.typical_minutes("billing")[0] == 5.0
    desk.call(at(9, 25), "w4")
    waiting = desk.engine.waiting_in("billing")[0]
    # w1 and w2 serve billing too but are closed: only w4 counts, free at 9:30
    made, _ = desk.engine.forecast(at(9, 26))
    assert made.call_in_min[waiting.id] == 4.0
    assert desk.engine.estimate("billing", at(9, 26), waiting).point == 5.0  # errs high


# ---------------------------------------------------------------- the log


def test_replaying_the_log_rebuilds_the_same_queue() -> None:
    desk = Desk()
    desk.open(at(9, 0), "w1", "w2")
    for m in range(6):
        desk.arrive(at(9, m), ("permits", "billing")[m % 2], needs=("seated",) if m == 4 else ())
    desk.serve(at(9, 6), "w1")
    called = desk.call(at(9, 7), "w2")
    desk.log += desk.engine.transfer(at(9, 8), called.id, "records", "records desk", "clerk")
    desk.log += desk.engine.cancel(at(9, 9), desk.engine.waiting_in("billing")[-1].id)
    replica = Engine(OFFICE)
    for event in desk.log:
        replica.apply(decode_event(*encode_event(event)))
    assert replica.tickets == desk.engine.tickets
    assert replica.counters == desk.engine.counters
    assert replica.waiting == desk.engine.waiting
    assert replica.idle_while_waiting("w1", at(9, 30)) == desk.engine.idle_while_waiting(
        "w1", at(9, 30)
    )


# ---------------------------------------------------------- known engine bugs


def test_an_alert_request_id_never_collides_with_a_check_in() -> None:
    desk = Desk()
    desk.arrive(at(9, 0), request_id="device-0001")
    alert, events = desk.engine.raise_alert(at(9, 1), "w1", "clerk", "device-0001")
    assert alert.id == 1 and len(events) == 1


def test_a_check_in_request_id_never_collides_with_an_alert() -> None:
    desk = Desk()
    someone = desk.arrive(at(9, 0))
    desk.engine.raise_alert(at(9, 1), "w1", "clerk", "device-0002")
    ticket = desk.arrive(at(9, 2), request_id="device-0002")
    assert ticket.id != someone.id and ticket.number == "P-002"


def test_a_retry_after_the_visit_was_transferred_returns_the_same_ticket() -> None:
    desk = Desk()
    ticket = desk.arrive(at(9, 0), "permits", request_id="kiosk-1-000009")
    desk.open(at(9, 0), "w1")
    desk.call(at(9, 0), "w1")
    desk.log += desk.engine.transfer(at(9, 0, 30), ticket.id, "billing", None, "clerk")
    again, events = desk.engine.check_in(
        at(9, 1), service="permits", request_id="kiosk-1-000009", status_token="retry"
    )
    assert again is ticket and events == []


def test_idle_time_is_real_time_when_the_clocks_fall_back() -> None:
    desk = Desk()
    real = datetime(2026, 11, 1, 6, 50, tzinfo=UTC)
    before, after = real.astimezone(TZ), (real + timedelta(minutes=15)).astimezone(TZ)
    assert (before.hour, before.minute, after.hour, after.minute) == (1, 50, 1, 5)
    desk.open(before, "w1")
    desk.arrive(before)
    assert desk.engine.idle_while_waiting("w1", after) == 15 * 60
    assert desk.engine.longest_wait_min("permits", after) == 15


# ------------------------------------------------------ what the engine keeps


def test_finished_visits_of_earlier_days_are_forgotten_on_the_first_event_of_a_new_day() -> None:
    desk = Desk()
    desk.open(at(9), "w1")
    desk.arrive(at(9))
    done = desk.serve(at(9, 1), "w1")
    still_open = desk.arrive(at(16))
    tomorrow = DAY + timedelta(days=1)
    desk.engine.advance(at(8, day=tomorrow))
    assert done.id in desk.engine.tickets, "only an event moves the engine into a new day"
    desk.log += desk.engine.close_day(at(8, day=tomorrow), before=tomorrow)
    assert done.id not in desk.engine.tickets
    assert f"status-{done.request_id}" not in desk.engine.status_tokens
    assert done.request_id not in desk.engine.request_ids
    assert desk.engine.tickets[still_open.id].state == "closed_at_end_of_day"
    with pytest.raises(Refused) as refused:
        desk.engine.ticket(done.id)
    assert refused.value.kind == "not_found"
    fresh = desk.arrive(at(9, day=tomorrow))
    assert fresh.id == still_open.id + 1 and fresh.number == "P-001", "ids are never reused"
    replayed = Engine(OFFICE)
    for event in desk.log:
        replayed.apply(decode_event(*encode_event(event)))
    assert replayed.tickets == desk.engine.tickets
    assert replayed.next_ticket_id == desk.engine.next_ticket_id


def test_forgotten_visits_still_have_their_private_data_erased_after_retention() -> None:
    desk = Desk()
    ticket, events = desk.engine.check_in(
        at(9), service="permits", request_id="req-private", status_token="s", name="Amina"
    )
    desk.log += events
    desk.open(at(9), "w1")
    desk.serve(at(9, 1), "w1")
    later = DAY + timedelta(days=1)
    desk.arrive(at(9, day=later))
    assert ticket.id not in desk.engine.tickets
    assert desk.engine.purge_private(at(10, day=later)) == []
    expired = DAY + timedelta(days=OFFICE.retention_days + 1)
    purged = desk.engine.purge_private(at(10, day=expired))
    assert [e.data["ids"] for e in purged] == [[ticket.id]]
    assert desk.engine.forgotten_private == {}
    assert desk.engine.purge_private(at(11, day=expired)) == []


def test_a_report_engine_keeps_the_visits_of_its_period() -> None:
    desk = Desk()
    before = desk.arrive(at(9, day=DAY - timedelta(days=1)))
    first = desk.arrive(at(9))
    desk.log += desk.engine.close_day(at(17))
    desk.arrive(at(9, day=DAY + timedelta(days=1)))
    keeping = Engine(OFFICE, keep_from=DAY)
    for event in desk.log:
        keeping.apply(event)
    assert first.id in keeping.tickets and first.id not in desk.engine.tickets
    assert before.id not in keeping.tickets, "a visit before the period is not measured"


def test_a_command_on_a_visit_its_own_event_would_forget_is_refused_as_not_found() -> None:
    desk = Desk()
    desk.open(at(9), "w1")
    desk.arrive(at(9))
    done = desk.serve(at(9, 5), "w1")
    desk.log += desk.engine.add_note(at(17), done.id, "same day: kept", "ana")
    tomorrow = at(8, day=DAY + timedelta(days=1))
    before = len(desk.engine.tickets[done.id].notes)
    for command in (
        lambda: desk.engine.add_note(tomorrow, done.id, "lost otherwise", "ana"),
        lambda: desk.engine.flag(tomorrow, done.id, "lost otherwise", "ana"),
        lambda: desk.engine.answer_survey(tomorrow, done.id, True, 5),
        lambda: desk.engine.acknowledge(tomorrow, done.id, "screen"),
    ):
        with pytest.raises(Refused) as refused:
            command()
        assert refused.value.kind == "not_found"
    assert len(desk.engine.tickets[done.id].notes) == before, "refused: nothing changed"
