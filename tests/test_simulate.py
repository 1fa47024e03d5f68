"""``lobby simulate``: seeded days, a recorded day replayed exactly, and changes that matter."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from lobby import protocol as p
from lobby.cli import main
from server.config import OfficeConfig
from server.reports.records import counter_layout
from server.simulation.day import simulate
from server.simulation.plan import add_counter
from server.simulation.run import read_plan, run
from server.simulation.scenario import ScenarioError, draw, load_scenario
from server.store.sqlite import SqliteStore
from tests.conftest import FakeClock, RunningServer, visitor

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
LUNCH = SCENARIOS / "lunch-peak.toml"


def waits(events: list[Any]) -> dict[str, float]:
    """Each ticket number's wait, arrival to first call, in minutes, from a day's events."""
    numbers: dict[int, tuple[str, Any]] = {}
    found: dict[str, float] = {}
    for event in events:
        if event.kind == "ticket.checked_in":
            numbers[event.data["id"]] = (event.data["number"], event.at)
        elif event.kind == "ticket.called":
            number, arrived = numbers[event.data["id"]]
            found.setdefault(number, (event.at - arrived).total_seconds() / 60)
    return found


def stores(tmp_path: Path) -> Any:
    made = iter(range(100))

    def new_store(config: OfficeConfig) -> SqliteStore:
        return SqliteStore(tmp_path / f"sim-{next(made)}.db", counter_layout(config))

    return new_store


def test_the_same_seed_draws_the_same_day_and_another_seed_another() -> None:
    scenario, config = load_scenario(LUNCH)
    first, again, other = (simulate(draw(scenario, config, seed)) for seed in (7, 7, 8))
    assert [(e.kind, e.at, e.data) for e in first.events] == [
        (e.kind, e.at, e.data) for e in again.events
    ]
    assert waits(first.events) != waits(other.events)
    assert len(first.plan.visitors) > 150, "a lunch peak, not a quiet day"


def test_one_more_counter_lowers_the_waits(tmp_path: Path) -> None:
    scenario, config = load_scenario(LUNCH)
    plan = draw(scenario, config, 3)
    as_planned = run(plan, ["forecast"], "longest-wait", stores(tmp_path))["forecast"]
    more = run(add_counter(plan), ["forecast"], "longest-wait", stores(tmp_path))["forecast"]
    before, after = as_planned["overall"]["wait_min"], more["overall"]["wait_min"]
    assert before["count"] == after["count"] == len(plan.visitors)
    assert after["mean"] < before["mean"] and after["p90"] < before["p90"]


def test_the_forecast_beats_the_naive_rule_on_a_lunch_peak(tmp_path: Path) -> None:
    scenario, config = load_scenario(LUNCH)
    figures = run(
        draw(scenario, config, 1), ["forecast", "naive"], "longest-wait", stores(tmp_path)
    )
    forecast, naive = (figures[k]["overall"]["estimate_error"] for k in ("forecast", "naive"))
    assert forecast["count"] == naive["count"] > 0
    assert forecast["mean_abs_error_min"] < naive["mean_abs_error_min"]
    assert forecast["range_inside"] >= 0.8 > naive["range_inside"]
    assert forecast["bias_min"] >= 0


async def test_a_recorded_day_replayed_unchanged_gives_every_visitor_their_wait(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server  # 09:00 at the test office
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    clerk2 = await server.staff("clerk2")

    def later(minutes: float) -> None:
        clock.now += timedelta(minutes=minutes)

    await clerk.counter_action("w1", "open")
    tickets = []
    for n, service in enumerate(["permits", "billing", "permits", "records", "billing"]):
        tickets.append(await kiosk.check_in(visitor(f"replay-{n:04d}", service)))
        later(1)
    await clerk2.counter_action("w2", "open")
    first = await clerk.call_next("w1")
    second = await clerk2.call_next("w2")
    later(2)
    await clerk.ticket_action(first.id, "start")
    await clerk2.ticket_action(second.id, "no-show")
    later(1)
    await clerk2.counter_action("w2", "break")
    later(4)
    await clerk.ticket_action(first.id, "complete", p.CompleteRequest(needs_met=True))
    later(1)
    third = await clerk.call_next("w1")
    await kiosk.check_in(visitor("replay-0010", "billing"))
    later(3)
    await clerk2.counter_action("w2", "open")
    fourth = await clerk2.call_next("w2")
    later(2)
    for ticket, who in ((third, clerk), (fourth, clerk2)):
        await who.ticket_action(ticket.id, "start")
    later(5)
    await clerk.ticket_action(third.id, "complete", p.CompleteRequest(needs_met=True))
    await clerk.ticket_action(tickets[3].id, "cancel")  # the records visitor leaves
    later(1)
    fifth = await clerk.call_next("w1")
    await clerk.ticket_action(fifth.id, "start")
    await server.stop()

    day = date(2026, 11, 2)
    real = SqliteStore(server.db, counter_layout(server.config))
    real.open()
    real.start()
    recorded = [e.event for e in await real.events_since(0)]
    await real.close()
    plan = await read_plan(
        SqliteStore(server.db, counter_layout(server.config)), server.config, day
    )
    assert len(plan.visitors) == 6 and {s.counter for s in plan.shifts} == {"w1", "w2"}
    replayed = simulate(plan)
    assert waits(replayed.events) == waits(recorded)
    assert len(waits(recorded)) == 5

    changed = simulate(add_counter(plan))
    assert sum(waits(changed.events).values()) < sum(waits(recorded).values())


def test_the_command_prints_the_reports_measures_for_each_estimator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", str(LUNCH), "--seed", "2", "--compare", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed["figures"]) == {"forecast", "naive", "interval"}
    assert "lunch-peak.toml, seed 2" in printed["plan"]
    overall = printed["figures"]["forecast"]["overall"]
    assert overall["wait_min"]["count"] == overall["check_ins"]
    assert main(["simulate", str(LUNCH), "--add-counters", "1"]) == 0
    table = capsys.readouterr().out
    assert "one more counter" in table and "estimate accuracy" in table and "forecast" in table


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--assign", "w9=permits"], "no counter 'w9'"),
        (["--assign", "w1=passports"], "no service 'passports'"),
        (["--assign", "w1"], "COUNTER=SERVICE"),
    ],
)
def test_a_change_that_cannot_be_made_is_refused_with_a_reason(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(LUNCH), *args]) == 2
    assert says in capsys.readouterr().err


def test_a_scenario_naming_what_the_office_lacks_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        LUNCH.read_text(encoding="utf-8")
        .replace('counter = "w4"', 'counter = "w7"')
        .replace('office = "../demo.toml"', f'office = "{SCENARIOS.parent / "demo.toml"}"'),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="no counter 'w7'"):
        load_scenario(broken)
