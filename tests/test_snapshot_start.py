"""A start from the latest snapshot holds exactly what a replay of the whole log holds.

The server saves snapshots of its engine (in housekeeping, at shutdown) and starts from the
latest one plus the events after it. Each test here runs a real server, then starts offices on
its database the three ways there are: from the last snapshot, from an earlier one with events
after it, and from the whole log; all must agree on every figure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
from pathlib import Path

import pytest

from lobby import protocol as p
from server import snapshot
from server.config import OfficeConfig
from server.keys import OFFICE
from server.office import Office
from server.store.sqlite import SqliteStore
from tests.conftest import FakeClock, RunningServer, until, visitor


@dataclasses.dataclass
class Started:
    state: p.StateSnapshot
    replayed: int
    office: Office


async def started(config: OfficeConfig, db: Path, clock: FakeClock) -> Started:
    """An office started on ``db`` the way the server starts one, then closed again."""
    store = SqliteStore(db)
    office = Office(config, store, clock)
    store.open()
    try:
        replayed = office.load()
        state = office.state("supervisor")
    finally:
        await store.close()
    state.now = ""
    return Started(state, replayed, office)


def keep_snapshots_up_to(db: Path, seq: int) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("DELETE FROM snapshots WHERE seq > ?", (seq,))
        conn.commit()


async def a_day_and_a_morning(server: RunningServer, clock: FakeClock) -> int:
    """Visits over two days, some of the first day still open on the second; returns the seq
    of a snapshot saved on the first day."""
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    served = await kiosk.check_in(visitor("r-day1-001", name="Amina Warsame", needs=["hearing"]))
    assert (await clerk.call_next("w1")).id == served.id
    for n in range(2, 6):
        await kiosk.check_in(visitor(f"r-day1-{n:03d}", "billing" if n % 2 else "permits"))
        clock.advance(minutes=3)
    await clerk.ticket_action(served.id, "start")
    clock.advance(minutes=6)
    await clerk.ticket_action(served.id, "complete", p.CompleteRequest(needs_met=True))
    await clerk.call_next("w1")  # left called overnight
    office = server.app[OFFICE]
    assert await office.save_snapshot()
    mid_day = office.store.last_seq
    await kiosk.check_in(visitor("r-day1-006"))
    clock.advance(days=1)
    await kiosk.check_in(visitor("r-day2-001"))  # the first event of the day forgets the served
    assert served.id not in office.engine.tickets
    clerk2 = await server.staff("clerk2")
    await clerk2.counter_action("w2", "open")
    await clerk2.call_next("w2")
    clock.advance(minutes=2)
    return mid_day


async def test_a_start_from_a_snapshot_holds_what_a_full_replay_holds(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    mid_day = await a_day_and_a_morning(server, clock)
    live = server.app[OFFICE]
    last = live.store.last_seq
    await server.stop()  # saves a snapshot at shutdown

    from_last = await started(server.config, server.db, clock)
    keep_snapshots_up_to(server.db, mid_day)
    from_mid_day = await started(server.config, server.db, clock)
    keep_snapshots_up_to(server.db, 0)
    full = await started(server.config, server.db, clock)

    assert (from_last.replayed, from_mid_day.replayed, full.replayed) == (0, last - mid_day, last)
    assert from_last.state == full.state
    assert from_mid_day.state == full.state
    assert any(t.state == "called" for t in full.state.tickets), "yesterday's visits are open"
    for one in (from_last, from_mid_day):
        engine, replayed = one.office.engine, full.office.engine
        assert engine.tickets == replayed.tickets
        assert engine.counters == replayed.counters
        assert engine.forgotten_private == replayed.forgotten_private
        assert engine.next_ticket_id == replayed.next_ticket_id
        assert engine.day_sequence == replayed.day_sequence


async def settled_state(server: RunningServer) -> p.StateSnapshot:
    """The supervisor's state once the housekeeping a start runs has committed."""
    office = server.app[OFFICE]
    await office.housekeep()
    await until(lambda: office.published_seq == office.store.last_seq, what="all committed")
    state = office.state("supervisor")
    state.now = ""
    return state


async def test_a_restarted_server_shows_the_same_office_from_a_snapshot_or_the_log(
    clocked_server: tuple[RunningServer, FakeClock],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, clock = clocked_server
    await a_day_and_a_morning(server, clock)
    with caplog.at_level(logging.INFO, logger="lobby.office"):
        await server.restart()
    assert "started from the snapshot" in caplog.text
    from_snapshot = await settled_state(server)
    await server.stop()
    keep_snapshots_up_to(server.db, 0)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="lobby.office"):
        await server.start()
    assert "started from the snapshot" not in caplog.text
    assert await settled_state(server) == from_snapshot


async def test_a_server_started_from_a_snapshot_carries_on_numbering(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    await a_day_and_a_morning(server, clock)
    await server.restart()
    fresh = await server.kiosk().check_in(visitor("r-day2-002"))
    assert fresh.number == "P-002" and fresh.id == 8


@pytest.mark.parametrize("change", ["counters", "format", "garbage"])
async def test_a_snapshot_that_does_not_fit_is_passed_over_for_the_whole_log(
    clocked_server: tuple[RunningServer, FakeClock],
    change: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, clock = clocked_server
    await a_day_and_a_morning(server, clock)
    last = server.app[OFFICE].store.last_seq
    await server.stop()
    config = server.config
    if change == "counters":
        config = dataclasses.replace(config, counters=config.counters[:-1])
    elif change == "format":
        monkeypatch.setattr(snapshot, "FORMAT", snapshot.FORMAT + 1)
    else:
        with contextlib.closing(sqlite3.connect(server.db)) as conn:
            conn.execute("UPDATE snapshots SET data = ?", (b"{not json",))
            conn.commit()
    with caplog.at_level(logging.WARNING, logger="lobby.office"):
        again = await started(config, server.db, clock)
    assert again.replayed == last
    assert "replaying the whole log" in caplog.text
    keep_snapshots_up_to(server.db, 0)
    assert again.state == (await started(config, server.db, clock)).state


async def test_no_snapshot_keeps_private_data_past_the_retention_period(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    await a_day_and_a_morning(server, clock)
    assert any(b"Amina" in data for data in saved_snapshots(server.db))
    office = server.app[OFFICE]
    clock.advance(days=server.config.retention_days + 1)
    await office.housekeep()
    saved = saved_snapshots(server.db)
    assert len(saved) == 1, "a fresh snapshot replaces those the purge dropped"
    assert not any(b"Amina" in data for data in saved)


def saved_snapshots(db: Path) -> list[bytes]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT data FROM snapshots")]
