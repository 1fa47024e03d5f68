"""Offices ship their logs to headquarters on the real PostgreSQL: exactly once, in order,
through outages and restarts, with private fields kept in the office."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import psycopg
import pytest
from psycopg import sql

from server.engine import Event
from server.hq.shipping import wire_events
from server.hq.wire import Batch
from server.keys import OFFICE
from server.store.port import Logged
from tests.conftest import RunningServer, until, visitor
from tests.hq_support import (
    KilledHQ,
    RunningHQ,
    hq_database,
    office_log,
    running_hq,
    shipping_office,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def hq() -> AsyncIterator[RunningHQ]:
    async with running_hq() as running:
        yield running


async def caught_up(hq: RunningHQ, office: RunningServer, office_id: str, timeout: float = 30):
    store = office.app[OFFICE].store

    def done() -> bool:
        return hq.office(office_id).received_seq == store.last_seq

    await until(done, timeout, f"headquarters caught up with {office_id}")


def assert_same_log(hq: RunningHQ, office_id: str, log: list[tuple[int, str, str]]) -> None:
    copy = hq.copy(office_id)
    assert [(seq, at, kind) for seq, at, kind, _ in copy] == log
    held = hq.office(office_id)
    assert held.events_received == len(log), "an event was stored twice, or one is missing"


async def check_ins(office: RunningServer, prefix: str, count: int) -> None:
    kiosk = office.kiosk()
    for i in range(count):
        ticket = await kiosk.check_in(
            visitor(f"{prefix}-visit-{i:04d}", name=f"Visitor {prefix} {i}")
        )
        assert ticket.number  # the front desk answered at once, whatever headquarters does


async def test_hq_down_during_a_burst_at_two_offices_then_every_event_once_in_order(
    tmp_path: Path, hq: RunningHQ
) -> None:
    async with (
        shipping_office(tmp_path, "north", hq) as north,
        shipping_office(tmp_path, "south", hq) as south,
    ):
        await asyncio.gather(check_ins(north, "n1", 5), check_ins(south, "s1", 5))
        await caught_up(hq, north, "north")
        await caught_up(hq, south, "south")
        await hq.stop()
        await asyncio.gather(check_ins(north, "n2", 120), check_ins(south, "s2", 90))
        assert hq.office("north").received_seq < north.app[OFFICE].store.last_seq
        await hq.start()
        await caught_up(hq, north, "north")
        await caught_up(hq, south, "south")
        assert_same_log(hq, "north", await office_log(north))
        assert_same_log(hq, "south", await office_log(south))
        overview = hq.office("north")
        assert sum(count for count, _ in overview.waiting.values()) == 125


async def test_an_office_restarted_mid_batch_goes_on_from_what_hq_holds(
    tmp_path: Path, hq: RunningHQ
) -> None:
    await hq.stop()  # a backlog first, shipped in small batches once headquarters is back
    async with shipping_office(tmp_path, "east", hq, batch=7) as east:
        await check_ins(east, "e", 150)
        await hq.start()
        for _ in range(3):  # stopped as soon as a batch has gone in, then started again
            before = hq.office("east").received_seq
            await until(lambda b=before: hq.office("east").received_seq > b, 20, "a batch")
            await east.restart()
        await caught_up(hq, east, "east")
        assert_same_log(hq, "east", await office_log(east))


async def test_hq_restarted_mid_batch_loses_and_doubles_nothing(
    tmp_path: Path, hq: RunningHQ
) -> None:
    await hq.stop()
    async with shipping_office(tmp_path, "west", hq, batch=9) as west:
        await check_ins(west, "w", 150)
        await hq.start()
        for _ in range(3):
            before = hq.office("west").received_seq
            await until(lambda b=before: hq.office("west").received_seq > b, 20, "a batch")
            await hq.stop()
            await check_ins(west, f"w{before}", 5)
            await hq.start()
        await caught_up(hq, west, "west")
        assert_same_log(hq, "west", await office_log(west))


async def test_hq_killed_mid_batch_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with hq_database() as url:
        hq = KilledHQ(url)
        async with shipping_office(tmp_path, "north", hq, batch=9) as north:
            await check_ins(north, "k", 150)  # headquarters not running yet: a backlog
            try:
                for _ in range(3):
                    await hq.start()
                    before = hq.office("north").received_seq
                    await until(lambda b=before: hq.office("north").received_seq > b, 20, "a batch")
                    await hq.stop()  # SIGKILL, most likely inside the next batch's transaction
                await hq.start()
                await caught_up(hq, north, "north")
                assert_same_log(hq, "north", await office_log(north))
            finally:
                await hq.stop()


async def test_private_fields_stay_in_the_office(tmp_path: Path, hq: RunningHQ) -> None:
    async with shipping_office(tmp_path, "quiet", hq) as office:
        kiosk = office.kiosk()
        await kiosk.check_in(visitor("private-1", name="Ana Garcia", needs=["wheelchair"]))
        clerk = await office.staff("clerk")
        await clerk.counter_action("w1", "open")
        called = await clerk.call_next("w1")
        await clerk.ticket_action(called.id, "start")
        await clerk.ticket_action(
            called.id, "complete", {"needs_met": True, "notes": "Renewed the permit"}
        )
        await caught_up(hq, office, "quiet")
        copy = hq.copy("quiet")
    text = repr(copy)
    assert "Ana Garcia" not in text and "wheelchair" not in text and "Renewed" not in text
    checked_in = next(data for _, _, kind, data in copy if kind == "ticket.checked_in")
    assert checked_in["name"] is None and checked_in["needs"] is None
    assert checked_in["number"] == called.number  # what reports need still arrives


async def test_shared_private_fields_arrive_and_a_purge_erases_them_at_hq(
    tmp_path: Path, hq: RunningHQ
) -> None:
    async with shipping_office(tmp_path, "open", hq, share_private=True) as office:
        ticket = await office.kiosk().check_in(visitor("shared-01", name="Ana Garcia"))
        await caught_up(hq, office, "open")
        assert "Ana Garcia" in repr(hq.copy("open"))
        core = office.app[OFFICE]
        await core.act(lambda now: core.engine.erase(now, [ticket.id]))
        await caught_up(hq, office, "open")
        copy = hq.copy("open")
    assert "Ana Garcia" not in repr(copy)
    assert copy[-1][2] == "tickets.purged"


# ------------------------------------------------------------------ hostile batches


async def post(
    hq: RunningHQ, office_id: str, token: str | None, body: bytes
) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{hq.base}/api/hq/offices/{office_id}/events", data=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def test_hostile_batches_are_refused_and_change_nothing(
    tmp_path: Path, hq: RunningHQ
) -> None:
    import msgspec

    async with shipping_office(tmp_path, "target", hq) as office:
        await check_ins(office, "t", 4)
        await caught_up(hq, office, "target")
        store = office.app[OFFICE].store
        token = office.config.headquarters.token_file.read_text().strip()  # type: ignore[union-attr]
        logged = await store.events_since(0)
        before = hq.copy("target")
        held = hq.office("target").received_seq

    def batch(chosen: list[Logged], **changes: object) -> bytes:
        wire = msgspec.to_builtins(Batch(held, wire_events(chosen, False)))
        wire.update(changes)
        return msgspec.json.encode(wire)

    later = [Logged(seq + 100, event) for seq, event in logged]
    status, body = await post(hq, "target", token, batch(later))
    assert status == 409 and body["expected_seq"] == held + 1
    assert f"start at seq {held + 1}" in body["error"]["message"]  # type: ignore[index]

    status, body = await post(hq, "target", token, batch(logged))
    assert status == 200 and body == {"received": held, "new": 0, "duplicates": len(logged)}

    status, body = await post(hq, "nowhere", token, batch(logged))
    assert status == 404 and body["error"]["code"] == "unknown_office"  # type: ignore[index]
    for wrong in ("not-the-token", None):
        status, body = await post(hq, "target", wrong, batch(logged))
        assert status == 401 and body["error"]["code"] == "unauthorized"  # type: ignore[index]

    next_event = Logged(held + 1, logged[0].event)
    shuffled = [next_event, Logged(held + 3, logged[1].event)]
    for hostile in (
        b"{not json",
        b'{"head": 1}',
        batch(
            [next_event], events=[{"seq": held + 1, "at": "yesterday", "kind": "x.y", "data": {}}]
        ),
        batch(shuffled),
        batch(
            [next_event],
            events=[
                {
                    "seq": held + 1,
                    "at": logged[0].event.at.isoformat(),
                    "kind": "ticket.called",
                    "data": {"no": "id"},
                }
            ],
        ),
    ):
        status, body = await post(hq, "target", token, hostile)
        assert status == 400 and body["error"]["code"] == "malformed", body  # type: ignore[index]

    other = [
        Logged(seq, Event("counter.opened", event.at, {"counter": "w1"})) for seq, event in logged
    ]
    status, body = await post(hq, "target", token, batch(other))
    assert status == 409 and body["error"]["code"] == "conflict"  # type: ignore[index]

    assert hq.copy("target") == before
    assert hq.office("target").received_seq == held


async def test_a_wrong_token_ships_nothing_and_the_front_desk_carries_on(
    tmp_path: Path, hq: RunningHQ
) -> None:
    async with shipping_office(tmp_path, "lost", hq) as office:
        settings = office.config.headquarters
        assert settings is not None
        await check_ins(office, "l1", 2)
        await caught_up(hq, office, "lost")
        settings.token_file.write_text("a-token-from-another-office\n")
        await office.restart()  # asks headquarters where to go on: refused
        await check_ins(office, "l2", 10)
        await asyncio.sleep(1.0)  # time enough to ship, had the token been right
        assert hq.office("lost").received_seq < office.app[OFFICE].store.last_seq


async def test_a_headquarters_restored_from_an_older_backup_is_sent_again_what_it_lost(
    tmp_path: Path, hq: RunningHQ
) -> None:
    async with shipping_office(tmp_path, "kept", hq) as office:
        await check_ins(office, "k1", 20)
        await caught_up(hq, office, "kept")
        kept = 7
        schema, number = hq.schema_of("kept")
        with psycopg.connect(hq.url, autocommit=True) as conn, conn.transaction():
            conn.execute(
                sql.SQL("DELETE FROM {}.events WHERE seq > %s").format(sql.Identifier(number)),
                (kept,),
            )
            conn.execute(
                sql.SQL("UPDATE {}.hq_offices SET received_seq = %s WHERE id = 'kept'").format(
                    sql.Identifier(schema)
                ),
                (kept,),
            )
        await check_ins(office, "k2", 5)  # the next batch meets the gap, then starts again
        await caught_up(hq, office, "kept")
        copy = hq.copy("kept")
        assert [(seq, at, kind) for seq, at, kind, _ in copy] == await office_log(office)
    day = copy[-1][1][:10]
    visits = await asyncio.to_thread(visit_count, hq, "kept", day)
    assert visits == 25, "the visit records were built again from the whole copy"


def visit_count(hq: RunningHQ, office_id: str, day: str) -> int:
    _, number = hq.schema_of(office_id)
    with psycopg.connect(hq.url, autocommit=True) as conn:
        found = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.visits").format(sql.Identifier(number))
        ).fetchone()
        return int(found[0]) if found else 0


async def test_the_offices_metrics_show_a_link_that_is_down_and_what_waits_to_go(
    tmp_path: Path, hq: RunningHQ
) -> None:
    from tests.test_metrics import parsed, scrape, value

    async with shipping_office(tmp_path, "west", hq) as west:
        supervisor = await west.staff("super")

        async def gauges() -> tuple[float, float]:
            status, _, text = await scrape(west, supervisor.token)
            assert status == 200
            samples = parsed(text)
            return (
                value(samples, "lobby_headquarters_reachable"),
                value(samples, "lobby_headquarters_unshipped_events"),
            )

        await check_ins(west, "w1", 3)
        await caught_up(hq, west, "west")
        assert await gauges() == (1.0, 0.0)
        await hq.stop()
        await check_ins(west, "w2", 4)
        seen: list[tuple[float, float]] = []

        async def down() -> bool:
            seen.append(await gauges())
            return seen[-1][0] == 0.0

        for _ in range(100):
            if await down():
                break
            await asyncio.sleep(0.1)
        assert seen[-1][0] == 0.0, f"the link never showed as down: {seen[-3:]}"
        assert seen[-1][1] >= 4, "the check-ins made while it was down wait to go"
        await hq.start()
        await caught_up(hq, west, "west")
        assert await gauges() == (1.0, 0.0)
