"""The counter's own layer over the office state, fed by a real server's stream.

What it decides (which actions the keys allow, which visitor a flag is about) is checked against
what the server really sends; the figures it shows (the idle nudge, waits) must be the server's,
moved by the server's tick and by nothing on the client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from counter.actions import DESK_ACTIONS
from counter.labels import language_name, minutes_text
from counter.model import CounterModel
from lobby import protocol as p
from lobby.client import live
from server.keys import OFFICE
from tests.conftest import FakeClock, RunningServer, until, visitor


@contextlib.asynccontextmanager
async def desk(server: RunningServer, counter_id: str = "w1") -> AsyncIterator[CounterModel]:
    """The model as the app keeps it: every stream message applied, the link state set."""
    clerk = await server.staff("clerk")
    model = CounterModel(counter_id)

    def linked(up: bool) -> None:
        model.connected = up

    async def follow() -> None:
        async for message in live(
            server.url, clerk.token or "", on_connection=linked, reconnect_delays=(0.05,)
        ):
            model.apply(message)

    task = asyncio.create_task(follow())
    try:
        await until(lambda: model.ready and model.connected, what="first snapshot")
        yield model
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def caught_up(server: RunningServer, model: CounterModel) -> bool:
    return model.office.seq == server.app[OFFICE].published_seq


async def settled(server: RunningServer, model: CounterModel) -> None:
    await until(lambda: caught_up(server, model), what="the model has every event")


def allowed(model: CounterModel) -> set[str]:
    return {a.action for a in DESK_ACTIONS if model.allows(a.action)}


async def test_idle_nudge_counts_visitors_this_counter_serves_while_open_and_idle(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    for i, service in enumerate(("permits", "permits", "billing", "records")):
        await kiosk.check_in(visitor(f"nudge-000{i}", service))
    async with desk(server) as model:
        assert model.idle_nudge is None, "a closed counter is never nudged"
        await clerk.counter_action("w1", "open")
        await until(lambda: model.idle_nudge is not None, what="the nudge")
        assert model.eligible_waiting == 3, "permits and billing; records is not served at w1"
        clock.advance(minutes=12)
        server.app[OFFICE].tick()
        await until(lambda: model.idle_nudge and model.idle_nudge.longest_wait_min == 12.0)
        assert model.idle_nudge is not None and model.idle_nudge.waiting == 3


async def test_idle_nudge_never_blames_a_counter_on_break_or_with_a_visitor(
    server: RunningServer,
) -> None:
    clerk = await server.staff("clerk")
    await server.kiosk().check_in(visitor("blame-0001"))
    await server.kiosk().check_in(visitor("blame-0002"))
    async with desk(server) as model:
        await clerk.counter_action("w1", "open")
        await until(lambda: model.idle_nudge is not None)
        await clerk.counter_action("w1", "break")
        await until(lambda: model.state == "break")
        assert model.idle_nudge is None and model.eligible_waiting == 2
        await clerk.counter_action("w1", "open")
        await clerk.call_next("w1")
        await until(lambda: model.current is not None)
        assert model.idle_nudge is None and model.eligible_waiting == 1


async def test_waits_move_with_the_servers_tick_and_never_with_the_clients_clock(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    await server.kiosk().check_in(visitor("ageing-001"))
    async with desk(server) as model:
        permits = model.office.services["permits"]
        assert (permits.longest_wait_min, permits.wait_level) == (0.0, "ok")
        clock.advance(minutes=8)
        await asyncio.sleep(0.2)
        assert model.my_services()[0].longest_wait_min == 0.0, "no tick, no change"
        server.app[OFFICE].tick()
        await until(lambda: model.my_services()[0].wait_level == "near", what="the tick")
        assert model.my_services()[0].longest_wait_min == 8.0


async def test_actions_follow_the_counter_and_the_visitor(server: RunningServer) -> None:
    clerk = await server.staff("clerk")
    async with desk(server) as model:
        assert allowed(model) == {"walk_in", "open_counter"}
        await clerk.counter_action("w1", "open")
        await until(lambda: model.state == "open")
        assert allowed(model) == {"walk_in", "take_break", "close_counter"}, "nobody waits"
        ticket = await server.kiosk().check_in(visitor("actions-01"))
        await until(lambda: model.allows("call_next"))
        assert allowed(model) == {"call_next", "walk_in", "take_break", "close_counter"}
        await clerk.call_next("w1")
        await until(lambda: model.state == "calling")
        assert allowed(model) == {"recall", "start", "no_show", "transfer", "note", "flag"} | {
            "walk_in"
        }
        await clerk.ticket_action(ticket.id, "start")
        await until(lambda: model.state == "serving")
        assert allowed(model) == {"complete", "transfer", "note", "flag", "walk_in"}
        await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
        await clerk.counter_action("w1", "break")
        await until(lambda: model.state == "break")
        assert allowed(model) == {"flag", "walk_in", "resume", "close_counter"}

        model.connected = False
        assert allowed(model) == set(), "nothing while the link is down"
    assert not CounterModel("w1").allows("walk_in"), "nothing before the first snapshot"


async def test_only_one_of_each_key_pair_shows(server: RunningServer) -> None:
    clerk = await server.staff("clerk")
    async with desk(server) as model:
        assert model.shows("open_counter") and not model.shows("close_counter")
        assert model.shows("take_break") and not model.shows("resume")
        await clerk.counter_action("w1", "open")
        await clerk.counter_action("w1", "break")
        await until(lambda: model.state == "break")
        assert model.shows("resume") and not model.shows("take_break")
        assert model.shows("close_counter") and not model.shows("open_counter")


async def test_a_transferred_visitor_frees_the_counter_and_stays_flaggable(
    server: RunningServer,
) -> None:
    clerk = await server.staff("clerk")
    ticket = await server.kiosk().check_in(visitor("moved-0001"))
    await clerk.counter_action("w1", "open")
    async with desk(server) as model:
        await clerk.call_next("w1")
        await until(lambda: model.current is not None)
        await clerk.ticket_action(ticket.id, "transfer", p.TransferRequest(service="records"))
        await until(lambda: model.state == "open" and model.current is None)
        target = model.flag_target()
        assert target is not None and (target.id, target.service) == (ticket.id, "records")
        assert model.office.tickets[ticket.id].state == "waiting"
        assert model.eligible_waiting == 0, "w1 does not serve records"


async def test_a_completed_visitor_stays_flaggable_whatever_other_counters_do(
    server: RunningServer,
) -> None:
    clerk, other = await server.staff("clerk"), await server.staff("clerk2")
    first = await server.kiosk().check_in(visitor("flag-00001"))
    await server.kiosk().check_in(visitor("flag-00002"))
    await clerk.counter_action("w1", "open")
    await other.counter_action("w2", "open")
    async with desk(server) as model:
        await clerk.call_next("w1")
        await clerk.ticket_action(first.id, "start")
        await clerk.ticket_action(first.id, "complete", p.CompleteRequest(needs_met=False))
        await until(lambda: model.state == "open" and model.current is None)
        assert first.id not in model.office.tickets, "a finished visit leaves the open list"
        target = model.flag_target()
        assert target is not None and (target.id, target.state) == (first.id, "done")
        assert model.allows("flag")
        called = await other.call_next("w2")
        await until(lambda: model.office.counters["w2"].ticket == called.id)
        await settled(server, model)
        assert model.flag_target() == target, "a visitor at another counter is not ours"


async def test_closing_the_day_frees_the_counter_and_drops_its_visitor(
    server: RunningServer,
) -> None:
    clerk, supervisor = await server.staff("clerk"), await server.staff("super")
    ticket = await server.kiosk().check_in(visitor("dayend-001"))
    await clerk.counter_action("w1", "open")
    async with desk(server) as model:
        await clerk.call_next("w1")
        await until(lambda: model.current is not None)
        await supervisor.request("POST", "/api/day/close")
        await until(lambda: model.current is None, what="the visitor is gone")
        assert ticket.id not in model.office.tickets
        assert model.state != "calling"
        assert model.last_visitor is not None
        assert model.last_visitor.state == "closed_at_end_of_day"


async def test_a_reconnection_resyncs_what_happened_while_the_link_was_down(
    server: RunningServer,
) -> None:
    clerk = await server.staff("clerk")
    async with desk(server) as model:
        await server.stop()
        await until(lambda: not model.connected, what="the link drops")
        await server.start()
        await clerk.counter_action("w1", "open")
        await server.kiosk().check_in(visitor("offline-01"))
        await until(lambda: model.connected and model.allows("call_next"), what="resynced")
        await settled(server, model)
        assert model.eligible_waiting == 1


def test_words_on_the_desk() -> None:
    assert minutes_text(0.4) == "under a minute"
    assert minutes_text(6.9) == "6 min"
    assert minutes_text(72) == "1 h 12 min"
    assert language_name("es") == "Español (es)"
    assert language_name("xx") == "xx"
    assert language_name(None) == "not given"
