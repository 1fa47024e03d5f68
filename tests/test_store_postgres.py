"""What only the PostgreSQL store does: its start-up refusals, a lost connection, an office
served on it end to end, and reports that match SQLite's figure for figure.

The store contract (tests/test_store_contract.py) runs against it too. Every test here that
needs a server gets a schema of its own (tests/store_backends.py) and skips where PostgreSQL
is not answering.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from lobby.cli import main
from server.config import OfficeConfig
from server.engine import Event
from server.reports.records import counter_layout
from server.simulation.day import simulate
from server.simulation.measure import measure
from server.simulation.scenario import draw, load_scenario
from server.store.port import StorageFailed, UnusableStore
from server.store.postgres import PostgresStore
from server.store.sqlite import SqliteStore
from tests.conftest import CONFIG_PATH, RunningServer, free_port, seed_accounts, visitor
from tests.store_backends import postgres_admin, postgres_schema

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
NINE = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def check_in(ticket_id: int) -> Event:
    data = {"id": ticket_id, "number": f"P-{ticket_id:03d}", "service": "permits"}
    return Event("ticket.checked_in", NINE, data)


def test_no_server_answering_is_one_line_without_the_password() -> None:
    store = PostgresStore("postgresql://lobby:secret-pw@127.0.0.1:1/offices")
    with pytest.raises(UnusableStore) as refused:
        store.open()
    message = str(refused.value)
    assert message.startswith("cannot connect to PostgreSQL database offices on 127.0.0.1:1")
    assert "secret-pw" not in message and "\n" not in message


def test_a_schema_without_a_lobby_database_is_refused_unless_a_new_office(url: str) -> None:
    with pytest.raises(UnusableStore, match="there is no Lobby database in"):
        PostgresStore(url, create=False).open()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(UnusableStore, match="holds tables but is not a Lobby database"):
        PostgresStore(url, init=True).open()


async def test_a_database_serves_only_the_office_that_claimed_it(url: str) -> None:
    store = PostgresStore(url, office="Eastside", init=True)
    async with store.running():
        pass
    with pytest.raises(UnusableStore, match="is the database of 'Eastside', not of 'Westside'"):
        PostgresStore(url, office="Westside").open()


def test_a_newer_schema_is_refused(url: str) -> None:
    with PostgresStore(url).offline():
        pass
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE lobby_schema SET version = 99")
    with pytest.raises(UnusableStore, match="schema version 99, newer than this Lobby knows"):
        PostgresStore(url).open()


def test_a_simulated_day_reports_the_same_figures_as_on_sqlite(url: str, tmp_path: Path) -> None:
    """Every figure of the supervisor's report, from PostgreSQL's queries and from SQLite's,
    over a busy day drawn from a scenario (transfers, no-shows, walk-aways, breaks)."""
    scenario, config = load_scenario(SCENARIOS / "lunch-peak.toml")
    day = simulate(draw(scenario, config, seed=11))
    layout = counter_layout(config)
    on_sqlite = measure(day, SqliteStore(tmp_path / "day.db", layout))
    on_postgres = measure(day, PostgresStore(url, layout))
    assert on_sqlite["overall"]["check_ins"] > 150
    assert on_postgres == on_sqlite


async def test_a_persons_visits_are_found_by_name_and_looks_at_them_audited(url: str) -> None:
    store = PostgresStore(url)
    async with store.running():
        named = Event("ticket.checked_in", NINE, {**check_in(1).data, "name": " Amina Warsame"})
        noted = Event("ticket.noted", NINE, {"id": 1, "text": "asked about a refund"})
        _, done = store.append([named, check_in(2), noted, check_in(10)])
        await done
        assert await store.visits_named("amina warsame ") == [1]
        assert [e.seq for e in await store.visit_events([1])] == [1, 3]
        await store.record_privacy("super", "export", "visit 1")
        [entry] = await store.privacy_audit()
        assert (entry.by, entry.action, entry.detail) == ("super", "export", "visit 1")


async def test_a_lost_connection_fails_the_commit_and_the_store_carries_on(url: str) -> None:
    named = f"{url}&application_name=lobby-lost-connection"
    store = PostgresStore(named)
    async with store.running():
        _, done = store.append([check_in(1)])
        await done
        with postgres_admin() as admin:  # the server drops it: a restart, a cut link
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'lobby-lost-connection'"
            )
        _, lost = store.append([check_in(2)])
        with pytest.raises(StorageFailed) as failed:
            await lost
        assert not failed.value.full and store.trouble is failed.value
        _, refused = store.append([check_in(3)])
        with pytest.raises(StorageFailed):
            await refused  # decided on top of the failed one
        assert await store.recover() == 1
        await store.probe()
        assert store.trouble is None
        seqs, done = store.append([check_in(2)])
        await done
        assert seqs == [2]
        assert [e.seq for e in await store.events_since(0)] == [1, 2]


async def test_an_office_runs_on_postgresql(
    url: str, office_config: OfficeConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lobby device add --db URL`, then a server on the URL: check in, call, report, restart;
    then `lobby report --db URL`."""
    assert main(["device", "add", "lobby-tv", "--role", "display", "--db", url]) == 0
    capsys.readouterr()
    running = RunningServer(office_config, url, free_port(), seed_accounts(url))
    await running.start()
    try:
        ticket = await running.kiosk().check_in(visitor("pg-000001", name="Amina Warsame"))
        clerk = await running.staff("clerk")
        await clerk.counter_action("w1", "open")
        called = await clerk.call_next("w1")
        assert (called.id, called.number) == (ticket.id, "P-001")
        supervisor = await running.staff("super")
        summary = await supervisor.request("GET", "/api/reports/summary")  # today
        assert summary["overall"]["check_ins"] == 1
        await running.restart()  # the queue comes back from the log in PostgreSQL
        state = await (await running.staff("super")).state()
        assert [(t.number, t.state) for t in state.tickets] == [("P-001", "called")]
    finally:
        for client in running.clients:
            await client.close()
        await running.stop()
    assert not Path("postgresql:").exists(), "nothing is made on disk from the URL"
    assert main(["report", "--db", url, "--config", str(CONFIG_PATH), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["check_ins"] == 1


def test_a_report_on_a_schema_no_office_used_is_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--db", url, "--config", str(CONFIG_PATH)]) == 2
    assert "there is no Lobby database in" in capsys.readouterr().err
