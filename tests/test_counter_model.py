"""The counter terminal's model: what it shows and allows, from stream messages alone.

The builders here are also the fixed office the snapshot tests render.
"""

from __future__ import annotations

from typing import Any

from counter.actions import DESK_ACTIONS
from counter.labels import minutes_text, wait_colour
from counter.model import CounterModel
from lobby import protocol as p

CHECKLIST = [
    "Move away from the person if you can do so safely",
    "Call security / 911 if anyone is in danger",
    "Note the time, a description and what was said",
    "Tell your supervisor once it is safe",
]
ARRIVED = "2026-11-23T09:14:05-06:00"


def office() -> p.OfficeView:
    return p.OfficeView(
        name="City Hall Service Center",
        timezone="America/Chicago",
        languages=["en", "es", "so"],
        notice="",
        retention_days=30,
        public_url="http://127.0.0.1:8080",
        safety_checklist=CHECKLIST,
    )


def service(
    sid: str, name: str, waiting: int, longest: float, target: float, state: str = "open"
) -> p.ServiceView:
    return p.ServiceView(
        id=sid,
        name=name,
        prefix=sid[0].upper(),
        state=state,  # type: ignore[arg-type]
        hours="08:00-16:30",
        waiting=waiting,
        longest_wait_min=longest,
        target_wait_min=target,
        estimate=p.Estimate(5, 10),
        info="",
    )


def services(waiting: tuple[int, int] = (3, 1), longest: tuple[float, float] = (12.4, 3.2)):
    return [
        service("permits", "Permits and Licensing", waiting[0], longest[0], 10),
        service("billing", "Utility Billing", waiting[1], longest[1], 5),
        service("records", "Vital Records", 0, 0, 15, state="closed"),
    ]


def ticket(tid: int, number: str, state: str, **extra: Any) -> p.TicketView:
    fields: dict[str, Any] = {
        "id": tid,
        "number": number,
        "service": "permits",
        "state": state,
        "arrived_at": ARRIVED,
        "called_at": None,
        "counter": None,
        "position": None,
        "estimate": None,
        "status_url": "http://127.0.0.1:8080/status/x",
        "service_name": "Permits and Licensing",
        "addressed_as": number,
        "needs": [],
        "notes": [],
    }
    fields.update(extra)
    return p.TicketView(**fields)


def counter_view(state: str, current: p.TicketView | None = None) -> p.CounterView:
    return p.CounterView(
        id="w1",
        name="Window 1",
        services=["permits", "billing"],
        state=state,  # type: ignore[arg-type]
        ticket=current.id if current else None,
        ticket_number=current.number if current else None,
        staff=None if state == "closed" else "clerk",
    )


def snapshot(
    state: str = "open",
    current: p.TicketView | None = None,
    waiting: tuple[int, int] = (3, 1),
    longest: tuple[float, float] = (12.4, 3.2),
) -> p.StateSnapshot:
    other = p.CounterView(
        id="w2", name="Window 2", services=["billing", "permits"], state="serving", staff="clerk2"
    )
    return p.StateSnapshot(
        seq=42,
        now="2026-11-23T09:30:00-06:00",
        role="clerk",
        office=office(),
        services=services(waiting, longest),
        counters=[counter_view(state, current), other],
        tickets=[current] if current else [],
    )


def garcia(state: str = "serving") -> p.TicketView:
    """A named visitor with needs, a note and a transfer: everything the card can show."""
    return ticket(
        7,
        "P-014",
        state,
        called_at="2026-11-23T09:20:41-06:00",
        started_at="2026-11-23T09:21:30-06:00" if state == "serving" else None,
        counter="w1",
        name="Maria Garcia",
        address_as="ms",
        addressed_as="Ms. Garcia",
        language="es",
        needs=["wheelchair", "interpreter"],
        transfers=[
            p.Transfer(
                at="2026-11-23T09:18:02-06:00",
                from_service="billing",
                to_service="permits",
                by_counter="w2",
            )
        ],
        notes=[
            p.Note(
                at="2026-11-23T09:18:02-06:00",
                text="Paid the water bill; needs a fence permit.",
                by="clerk2",
            )
        ],
    )


def number_only() -> p.TicketView:
    return ticket(
        9,
        "B-003",
        "called",
        service="billing",
        service_name="Utility Billing",
        called_at="2026-11-23T09:25:10-06:00",
        counter="w1",
    )


def model_of(state: p.StateSnapshot, received: float = 0.0) -> CounterModel:
    model = CounterModel("w1")
    model.apply(p.StreamSnapshot(state.seq, "snapshot", state), received)
    return model


def allowed(model: CounterModel) -> set[str]:
    return {a.action for a in DESK_ACTIONS if model.allows(a.action)}


def event(seq: int, kind: str, **extra: Any) -> p.StreamEvent:
    fields: dict[str, Any] = {"services": services()}
    fields.update(extra)
    return p.StreamEvent(seq=seq, type="event", kind=kind, at=ARRIVED, **fields)


# ------------------------------------------------------------------ tests


def test_idle_banner_counts_visitors_this_counter_serves_while_open_and_idle() -> None:
    notice = model_of(snapshot("open")).idle_notice(now=0.0)
    assert notice is not None
    assert notice.waiting == 4, "permits and billing; records is not served here"
    assert round(notice.longest_min, 1) == 12.4


def test_idle_banner_never_blames_a_counter_on_break_closed_or_busy() -> None:
    assert model_of(snapshot("break")).idle_notice(0.0) is None
    assert model_of(snapshot("closed")).idle_notice(0.0) is None
    assert model_of(snapshot("serving", garcia())).idle_notice(0.0) is None
    assert model_of(snapshot("open", waiting=(0, 0))).idle_notice(0.0) is None


def test_waiting_times_age_between_messages() -> None:
    model = model_of(snapshot("open"), received=100.0)
    permits = model.services["permits"]
    assert round(model.longest_wait_min(permits, now=160.0), 1) == 13.4
    empty = model_of(snapshot("open", waiting=(0, 0)), received=100.0)
    assert empty.longest_wait_min(empty.services["permits"], now=1000.0) == 0.0


def test_actions_follow_the_visitor_state() -> None:
    called = model_of(snapshot("calling", garcia("called")))
    assert allowed(called) == {
        "recall",
        "start",
        "no_show",
        "transfer",
        "note",
        "flag",
        "walk_in",
    }
    serving = model_of(snapshot("serving", garcia("serving")))
    assert allowed(serving) == {
        "complete",
        "transfer",
        "note",
        "flag",
        "walk_in",
    }
    idle = model_of(snapshot("open"))
    assert allowed(idle) == {
        "call_next",
        "walk_in",
        "take_break",
        "close_counter",
    }
    nobody = model_of(snapshot("open", waiting=(0, 0)))
    assert not nobody.allows("call_next")
    on_break = model_of(snapshot("break"))
    assert allowed(on_break) == {"walk_in", "resume", "close_counter"}
    closed = model_of(snapshot("closed"))
    assert allowed(closed) == {"walk_in", "open_counter"}
    assert not CounterModel("w1").allows("walk_in"), "nothing before the first snapshot"


def test_only_one_of_each_key_pair_shows() -> None:
    on_break = model_of(snapshot("break"))
    assert on_break.shows("resume") and not on_break.shows("take_break")
    closed = model_of(snapshot("closed"))
    assert closed.shows("open_counter") and not closed.shows("close_counter")
    assert closed.shows("take_break") and not closed.shows("resume")


def test_a_transfer_frees_the_counter_it_left_and_its_visitor_stays_flaggable() -> None:
    model = model_of(snapshot("serving", garcia()))
    moved = ticket(7, "P-014", "waiting", service="billing", counter=None)
    model.apply(event(43, "ticket.transferred", ticket=moved, counter=counter_view("open")), 1.0)
    assert model.state == "open" and model.current is None
    assert model.tickets[7].service == "billing"
    assert model.flag_target() is moved, "the flag is about the visitor just transferred"


def test_closing_the_day_frees_the_counter_and_drops_its_visitor() -> None:
    model = model_of(snapshot("serving", garcia()))
    closed = ticket(7, "P-014", "closed_at_end_of_day", counter="w1")
    model.apply(event(43, "day.closed", tickets=[closed], counters=[counter_view("open")]), 1.0)
    assert model.state == "open" and model.current is None
    assert 7 not in model.tickets


def test_completed_visitor_stays_flaggable_and_old_events_are_ignored() -> None:
    model = model_of(snapshot("serving", garcia()))
    done = ticket(7, "P-014", "done", counter="w1")
    model.apply(event(43, "ticket.completed", ticket=done, counter=counter_view("open")), 1.0)
    assert model.current is None and 7 not in model.tickets
    assert model.allows("flag") and model.flag_target() is done
    model.apply(
        event(
            40,
            "ticket.called",
            ticket=garcia("called"),
            counter=counter_view("calling", garcia("called")),
        ),
        2.0,
    )
    assert model.state == "open", "an event older than what we have changes nothing"


def test_wait_colours_against_the_target() -> None:
    assert wait_colour(3, 10) == "green"
    assert wait_colour(8, 10) == "yellow"
    assert wait_colour(10, 10) == "red"
    assert minutes_text(0.4) == "under a minute"
    assert minutes_text(6.9) == "6 min"
    assert minutes_text(72) == "1 h 12 min"
