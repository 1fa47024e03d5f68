"""What every store promises, run against each store in ``tests/store_backends.py``.

Only the port is used here: a test that needs to know which database it runs on belongs in that
store's own test module.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.engine import Event
from server.reports.records import Changes, RecordFold
from server.store.port import Logged, StorageFailed, Store
from tests.store_backends import BACKENDS, Backend

CHICAGO = ZoneInfo("America/Chicago")
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO)


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with BACKENDS[request.param](tmp_path) as backend:
        yield backend


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    store = backend.store()
    async with store.running():
        yield store


def check_in(ticket_id: int, at: datetime = NINE, **private: Any) -> Event:
    data = {"id": ticket_id, "number": f"P-{ticket_id:03d}", "service": "permits", **private}
    return Event("ticket.checked_in", at, data)


def visitor(ticket_id: int, name: str) -> Event:
    return check_in(ticket_id, name=name, address_as="Ms.", language="so", needs=["seated"])


async def durable(store: Store, events: list[Event]) -> list[int]:
    seqs, done = store.append(events)
    await done
    return seqs


async def reopened(backend: Backend) -> tuple[list[Event], list[Logged]]:
    """What a fresh store object on the same database replays at start and reads once running."""
    store = backend.store()
    replayed: list[Event] = []
    async with store.running(before_start=lambda: replayed.extend(store.replay())):
        return replayed, await store.events_since(0)


# ------------------------------------------------------------------ the log


async def test_seqs_are_handed_out_at_once_in_call_order(store: Store) -> None:
    first, first_done = store.append([check_in(1), check_in(2)])
    second, second_done = store.append([check_in(3)])
    assert (first, second) == ([1, 2], [3])
    assert store.last_seq == 3, "the seq moves before the commit, so the next command follows"
    await asyncio.gather(first_done, second_done)
    logged = await store.events_since(0)
    assert logged == [Logged(1, check_in(1)), Logged(2, check_in(2)), Logged(3, check_in(3))]


async def test_an_event_reads_back_with_its_time_offset_and_data_unchanged(store: Store) -> None:
    event = Event(
        "ticket.completed",
        datetime(2026, 11, 2, 9, 41, 7, 123456, tzinfo=CHICAGO),
        {"id": 7, "needs_met": None, "notes": "Café — ñ, 東京", "legs": [1.5, {"a": True}]},
    )
    await durable(store, [event])
    [(_, back)] = await store.events_since(0)
    assert back == event and back.data == event.data
    assert back.at.utcoffset() == timedelta(hours=-6) and back.at.microsecond == 123456


async def test_committed_events_survive_closing_and_reopening(backend: Backend) -> None:
    events = [visitor(1, "Amina Warsame"), check_in(2), check_in(3)]
    store = backend.store()
    async with store.running():
        await durable(store, events)
    replayed, logged = await reopened(backend)
    assert replayed == events
    assert [entry.seq for entry in logged] == [1, 2, 3]
    again = backend.store()
    async with again.running():
        assert again.last_seq == 3
        assert await durable(again, [check_in(4)]) == [4], "a reopened log carries on numbering"


async def test_a_defect_in_a_commit_fails_it_and_the_writer_serves_on(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that is not the database's, here a defect in the visit records' fold, fails
    its commit and what was decided on top of it, like a full disk would; the writer thread
    lives on, so after ``recover`` the log carries on from what it holds."""
    await durable(store, [check_in(1)])
    real_fold = RecordFold.fold
    left = [1]

    def fold_once_broken(self: RecordFold, events: Any) -> Changes:
        if left[0]:
            left[0] -= 1
            raise RuntimeError("a defect in the fold")
        return real_fold(self, events)

    monkeypatch.setattr(RecordFold, "fold", fold_once_broken)
    with pytest.raises(StorageFailed) as failed:
        await asyncio.wait_for(durable(store, [check_in(2)]), 10)
    assert failed.value.code == "storage_error" and "RuntimeError" in failed.value.detail
    with pytest.raises(StorageFailed):
        await asyncio.wait_for(durable(store, [check_in(3)]), 10)
    assert await store.recover() == 1
    assert await asyncio.wait_for(durable(store, [check_in(2)]), 10) == [2]
    assert [entry.seq for entry in await store.events_since(0)] == [1, 2]


async def test_events_since_gives_only_what_came_after(store: Store) -> None:
    await durable(store, [check_in(n) for n in range(1, 6)])
    assert [entry.seq for entry in await store.events_since(2)] == [3, 4, 5]
    assert await store.events_since(5) == []
    assert (await store.events_since(0))[0] == Logged(1, check_in(1))
    assert [entry.seq for entry in await store.events_since(1, limit=2)] == [2, 3]
    assert [entry.seq for entry in await store.events_since(4, limit=2)] == [5]


async def test_a_start_replays_only_the_events_after_a_seq(backend: Backend) -> None:
    store = backend.store()
    async with store.running():
        await durable(store, [check_in(n) for n in range(1, 6)])
    again = backend.store()
    replayed: list[Event] = []
    async with again.running(before_start=lambda: replayed.extend(again.replay_since(3))):
        pass
    assert replayed == [check_in(4), check_in(5)]


async def test_the_latest_snapshot_is_there_at_the_next_start(backend: Backend) -> None:
    store = backend.store()
    found: list[tuple[int, bytes] | None] = []
    async with store.running(before_start=lambda: found.append(store.latest_snapshot())):
        await durable(store, [check_in(n) for n in range(1, 8)])
        for seq in (2, 7, 5):
            await store.save_snapshot(seq, f"state at {seq}".encode())
        await store.save_snapshot(7, b"\x00state at 7, again\xff")
    again = backend.store()
    async with again.running(before_start=lambda: found.append(again.latest_snapshot())):
        pass
    assert found == [None, (7, b"\x00state at 7, again\xff")]


async def test_a_purge_drops_the_snapshots_saved_before_it(backend: Backend) -> None:
    store = backend.store()
    async with store.running():
        await durable(store, [visitor(1, "Amina Warsame")])
        await store.save_snapshot(1, b"Amina Warsame is waiting")
        await durable(store, [Event("tickets.purged", NINE, {"ids": [1]})])
    again = backend.store()
    found: list[tuple[int, bytes] | None] = []
    async with again.running(before_start=lambda: found.append(again.latest_snapshot())):
        pass
    assert found == [None]


async def test_events_between_includes_the_start_and_excludes_the_end(store: Store) -> None:
    times = [NINE + timedelta(minutes=m) for m in (0, 10, 20, 30)]
    await durable(store, [check_in(n, at) for n, at in enumerate(times, start=1)])
    inside = await store.events_between(times[1], times[3])
    assert [entry.seq for entry in inside] == [2, 3]
    just_after = times[1] + timedelta(microseconds=1)
    assert [entry.seq for entry in await store.events_between(just_after, times[3])] == [3]
    assert await store.events_between(times[3] + timedelta(seconds=1), times[3]) == []


async def test_events_between_compares_instants_when_the_clocks_fall_back(store: Store) -> None:
    # 1 November 2026, Chicago: 01:50 daylight time comes before 01:10 standard time, though
    # as text the later one sorts first.
    before_change = datetime(2026, 11, 1, 1, 50, tzinfo=timezone(timedelta(hours=-5)))
    after_change = datetime(2026, 11, 1, 1, 10, tzinfo=timezone(timedelta(hours=-6)))
    assert before_change < after_change and after_change.isoformat() < before_change.isoformat()
    await durable(store, [check_in(1, before_change), check_in(2, after_change)])
    window = await store.events_between(
        datetime(2026, 11, 1, 7, 0, tzinfo=UTC), datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    )
    assert [entry.seq for entry in window] == [2]


async def test_appends_queued_together_are_all_durable_in_seq_order(backend: Backend) -> None:
    store = backend.store()
    async with store.running():
        handed = [store.append([check_in(n, NINE + timedelta(seconds=n))]) for n in range(500)]
        handed.append(store.append([check_in(500), check_in(501), check_in(502)]))
        await asyncio.gather(*(done for _, done in handed))
        seqs = [seq for batch, _ in handed for seq in batch]
    assert seqs == list(range(1, 504))
    _, logged = await reopened(backend)
    assert [entry.seq for entry in logged] == seqs
    assert [entry.event.data["id"] for entry in logged] == list(range(503))


async def test_writers_awaiting_each_commit_all_land_without_gaps(backend: Backend) -> None:
    store = backend.store()

    async def kiosk(number: int) -> list[int]:
        mine = []
        for visit in range(20):
            mine += await durable(store, [check_in(number * 100 + visit)])
        return mine

    async with store.running():
        per_kiosk = await asyncio.gather(*(kiosk(k) for k in range(32)))
        seen_while_writing = await store.events_since(0)
    every = sorted(seq for seqs in per_kiosk for seq in seqs)
    assert every == list(range(1, 641))
    assert len(seen_while_writing) == 640
    _, logged = await reopened(backend)
    ids = {entry.event.data["id"] for entry in logged}
    assert ids == {k * 100 + v for k in range(32) for v in range(20)}


# --------------------------------------------------------------- retention


async def test_a_purge_erases_private_fields_of_those_tickets_only(backend: Backend) -> None:
    store = backend.store()
    async with store.running():
        await durable(
            store,
            [
                visitor(1, "Amina Warsame"),
                visitor(2, "Bo Lindqvist"),
                Event("ticket.noted", NINE, {"id": 1, "text": "asked about a refund"}),
                Event("ticket.flagged", NINE, {"id": 1, "reason": "raised voice"}),
                Event("ticket.transferred", NINE, {"id": 1, "service": "billing", "note": "x"}),
                Event("ticket.completed", NINE, {"id": 1, "needs_met": True, "notes": "permit"}),
            ],
        )
        await durable(store, [Event("tickets.purged", NINE, {"ids": [1]})])
        live = await store.events_since(0)
    _, after_reopen = await reopened(backend)
    for logged in (live, after_reopen):
        first = [entry.event for entry in logged if entry.event.data.get("id") == 1]
        for field in ("name", "address_as", "language", "needs", "text", "reason", "note", "notes"):
            assert all(event.data.get(field) is None for event in first), field
        assert first[0].data["number"] == "P-001" and first[-1].data["needs_met"] is True
        second = next(entry.event for entry in logged if entry.event.data.get("id") == 2)
        assert second.data["name"] == "Bo Lindqvist", "another visitor's data is kept"
        assert logged[-1].event.kind == "tickets.purged"


# ---------------------------------------------------------------- accounts


async def test_staff_are_found_by_name_in_any_case_and_updated_in_place(store: Store) -> None:
    staff_id = await store.add_staff("Dana", "clerk", "hash-1")
    found = await store.staff_password("dana")
    assert found is not None
    account, stored = found
    assert (account.id, account.name, account.role, account.kind) == (
        staff_id,
        "Dana",
        "clerk",
        "staff",
    )
    assert stored == "hash-1"
    assert await store.add_staff("DANA", "supervisor", "hash-2") == staff_id
    updated = await store.staff_password("Dana")
    assert updated is not None and updated[0].role == "supervisor" and updated[1] == "hash-2"
    assert await store.staff_password("nobody") is None


async def test_a_session_token_finds_its_staff_member_until_signed_out(store: Store) -> None:
    staff_id = await store.add_staff("Dana", "supervisor", "hash")
    await store.add_session("session-hash", staff_id)
    account = await store.account_for_token("session-hash")
    assert account is not None
    assert (account.id, account.role, account.kind) == (staff_id, "supervisor", "staff")
    await store.remove_session("session-hash")
    assert await store.account_for_token("session-hash") is None


async def test_a_reissued_device_token_retires_the_old_one(store: Store) -> None:
    device_id = await store.add_device("lobby-tv", "display", "old-hash")
    assert await store.add_device("lobby-tv", "display", "new-hash") == device_id
    assert await store.account_for_token("old-hash") is None
    account = await store.account_for_token("new-hash")
    assert account is not None
    assert (account.id, account.name, account.role, account.kind) == (
        device_id,
        "lobby-tv",
        "display",
        "device",
    )
    assert await store.account_for_token("never-issued") is None


async def test_accounts_added_offline_reach_a_running_store(backend: Backend) -> None:
    with backend.store().offline() as accounts:
        staff_id = accounts.add_staff("Dana", "clerk", "hash")
        accounts.add_session("session-hash", staff_id)
        assert accounts.staff_password("DANA") is not None
    store = backend.store()
    async with store.running():
        assert await store.account_for_token("session-hash") is not None
        with backend.store().offline() as accounts:  # `lobby device add` while serving
            accounts.add_device("kiosk-2", "kiosk", "kiosk-hash")
        device = await store.account_for_token("kiosk-hash")
        assert device is not None and device.kind == "device"
    with backend.store().offline() as accounts:
        assert accounts.account_for_token("kiosk-hash") is not None
        accounts.remove_session("session-hash")
        assert accounts.account_for_token("session-hash") is None


# --------------------------------------------------------------- migration


async def test_a_version_one_database_keeps_its_events_and_accounts(backend: Backend) -> None:
    events = [
        visitor(1, "Amina Warsame"),
        check_in(2, datetime(2026, 10, 30, 16, 0, tzinfo=CHICAGO)),
        Event("ticket.called", NINE + timedelta(minutes=3), {"id": 1, "counter": "w1"}),
    ]
    backend.version_one(
        events, staff=("Dana", "supervisor", "dana-hash"), device=("tv", "display", "tv-hash")
    )
    replayed, logged = await reopened(backend)
    assert replayed == events
    assert [entry.seq for entry in logged] == [1, 2, 3]
    store = backend.store()
    async with store.running():
        assert store.last_seq == 3
        window = await store.events_between(NINE, NINE + timedelta(hours=1))
        assert [entry.seq for entry in window] == [1, 3], "old events have times to query by"
        found = await store.staff_password("dana")
        assert found is not None and found[1] == "dana-hash"
        device = await store.account_for_token("tv-hash")
        assert device is not None and device.role == "display"
        assert await durable(store, [check_in(3)]) == [4]


# ------------------------------------------------------------ visit records


def _visit_day(ticket_id: int) -> list[Event]:
    at = NINE + timedelta(minutes=ticket_id)
    return [
        check_in(ticket_id, at, quoted=[0, 10, 8.0], name="Ana"),
        Event("ticket.called", at + timedelta(minutes=3), {"id": ticket_id, "counter": "w1"}),
        Event("ticket.flagged", at + timedelta(minutes=4), {"id": ticket_id, "reason": "upset"}),
    ]


async def test_visit_records_are_written_with_their_events_and_read_back(
    backend: Backend,
) -> None:
    store = backend.store()
    async with store.running():
        await durable(store, _visit_day(1) + _visit_day(2))
        with store.records() as reader:
            tallies = reader.visit_tallies(NINE.date(), NINE.date(), "", {"permits": 10}, NINE)
            waits = reader.histograms(NINE.date(), NINE.date(), "wait_min", "service")
            flagged = reader.flagged(NINE.date(), NINE.date())
    assert tallies[""]["check_ins"] == 2 and tallies[""]["level_met"] == 2
    assert waits["permits"].buckets == [(300, 2)] and waits["permits"].total == 6.0
    assert [(number, reason) for number, reason, _ in flagged] == [
        ("P-001", "upset"),
        ("P-002", "upset"),
    ]
    again = backend.store()
    async with again.running():
        with again.records() as reader:
            assert reader.flagged(NINE.date(), NINE.date()) == flagged, "kept across a reopen"


async def test_a_wait_of_exactly_the_target_meets_it_and_a_second_more_does_not(
    backend: Backend,
) -> None:
    """docs/measures.md: met is a wait of *at most* the target, in every store's SQL."""
    store = backend.store()
    called = [(1, timedelta(minutes=10)), (2, timedelta(minutes=10, seconds=1))]
    events = [check_in(ticket_id, NINE) for ticket_id, _ in called]
    events += [
        Event("ticket.called", NINE + wait, {"id": ticket_id, "counter": "w1"})
        for ticket_id, wait in called
    ]
    async with store.running():
        await durable(store, events)
        with store.records() as reader:
            tallies = reader.visit_tallies(NINE.date(), NINE.date(), "", {"permits": 10}, NINE)
    assert (tallies[""]["level_met"], tallies[""]["level_counted"]) == (1, 2)
    assert tallies[""]["wait_sum_min"] == pytest.approx(10 + 10 + 1 / 60)


async def test_a_purge_erases_the_debrief_reason_from_the_records(backend: Backend) -> None:
    store = backend.store()
    async with store.running():
        await durable(store, _visit_day(1))
        await durable(store, [Event("tickets.purged", NINE + timedelta(days=40), {"ids": [1]})])
        with store.records() as reader:
            flagged = reader.flagged(NINE.date(), NINE.date())
    assert [reason for _, reason, _ in flagged] == ["(erased after the retention period)"]


async def test_records_are_built_from_an_older_log_at_the_first_start(backend: Backend) -> None:
    backend.version_one(_visit_day(1), ("super", "supervisor", "x"), ("kiosk", "kiosk", "y"))
    store = backend.store()
    async with store.running():
        with store.records() as reader:
            tallies = reader.visit_tallies(NINE.date(), NINE.date(), "", {}, NINE)
    assert tallies[""]["check_ins"] == 1 and tallies[""]["called_once"] == 1
