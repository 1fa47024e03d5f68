"""A synthetic day from a small TOML file, drawn with a fixed seed.

.. code-block:: toml

    office = "../examples/demo.toml"   # the office (relative to this file)
    date = "2026-11-02"
    no_show_share = 0.04                # of those called, who never come
    priority_share = 0.03               # of arrivals, with a need that is called ahead

    [arrivals]                          # visitors per hour, by service and hour of day
    permits = { 8 = 6, 9 = 10, 12 = 24, 13 = 12 }

    [service_time.permits]              # minutes at a counter, call to end: lognormal
    median = 7
    spread = 0.5                        # standard deviation of ln(minutes)

    [[shifts]]
    counter = "w1"
    hours = "08:00-17:00"
    breaks = ["10:30+15", "12:30+30"]   # start + minutes

Arrivals are a Poisson process at each hour's rate; the same seed draws the same day.
"""

from __future__ import annotations

import math
import random
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path

import msgspec

from server.config import ConfigError, OfficeConfig, load_config
from server.simulation.plan import Plan, Shift, Visitor

MIN_VISIT_MIN = 0.5
NO_SHOW_WAIT_MIN = 3.0
"""How long a counter waits for a visitor who does not come before marking a no-show."""


class ServiceTime(msgspec.Struct, forbid_unknown_fields=True):
    median: float
    spread: float = 0.5


class ShiftSpec(msgspec.Struct, forbid_unknown_fields=True):
    counter: str
    hours: str
    breaks: list[str] = []


class Scenario(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    arrivals: dict[str, dict[str, float]]
    service_time: dict[str, ServiceTime]
    shifts: list[ShiftSpec]
    office: str | None = None
    no_show_share: float = 0.0
    priority_share: float = 0.0


class ScenarioError(ValueError):
    """The scenario file says something the simulator cannot use; the message says what."""


def load_scenario(path: Path, config: OfficeConfig | None = None) -> tuple[Scenario, OfficeConfig]:
    """The scenario and its office (``config`` if given, else the file's ``office``)."""
    try:
        scenario = msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), Scenario)
    except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
        raise ScenarioError(f"{path}: {error}") from None
    if config is None:
        if scenario.office is None:
            raise ScenarioError(f'{path}: name the office (office = "...toml") or pass --config')
        try:
            config = load_config(path.parent / scenario.office)
        except ConfigError as error:
            raise ScenarioError(str(error)) from None
    _check(path, scenario, config)
    return scenario, config


def _check(path: Path, scenario: Scenario, config: OfficeConfig) -> None:
    services = {s.id for s in config.services}
    counters = {c.id for c in config.counters}
    for service_id in [*scenario.arrivals, *scenario.service_time]:
        if service_id not in services:
            raise ScenarioError(f"{path}: no service {service_id!r} in {config.name}")
    for service_id in scenario.arrivals:
        if service_id not in scenario.service_time:
            raise ScenarioError(f"{path}: service_time.{service_id} is missing")
    for service_id, by_hour in scenario.arrivals.items():
        for hour, rate in by_hour.items():
            if not hour.isdigit() or not 0 <= int(hour) <= 23 or rate < 0:
                raise ScenarioError(f"{path}: arrivals.{service_id}: bad hour {hour} = {rate}")
    for shift in scenario.shifts:
        if shift.counter not in counters:
            raise ScenarioError(f"{path}: no counter {shift.counter!r} in {config.name}")
    if not (0 <= scenario.no_show_share < 1 and 0 <= scenario.priority_share < 1):
        raise ScenarioError(f"{path}: shares run from 0 to below 1")


def draw(scenario: Scenario, config: OfficeConfig, seed: int) -> Plan:
    """The day the scenario describes, drawn with ``seed``."""
    rng = random.Random(seed)
    tz = config.tz
    priority_need = config.priority.needs[0] if config.priority.needs else None
    visitors = []
    for service_id in sorted(scenario.arrivals):
        shape = scenario.service_time[service_id]
        for hour, rate in sorted(scenario.arrivals[service_id].items(), key=lambda h: int(h[0])):
            if rate <= 0:
                continue
            start = datetime.combine(scenario.date, time(int(hour)), tz)
            offset = rng.expovariate(rate / 60)
            while offset < 60:
                minutes = max(MIN_VISIT_MIN, shape.median * math.exp(rng.gauss(0, shape.spread)))
                needs = (
                    (priority_need,)
                    if priority_need and rng.random() < scenario.priority_share
                    else ()
                )
                no_show = rng.random() < scenario.no_show_share
                visitors.append(
                    Visitor(
                        arrives=start + timedelta(minutes=offset),
                        service=service_id,
                        minutes=NO_SHOW_WAIT_MIN if no_show else round(minutes, 3),
                        no_show=no_show,
                        needs=needs,
                    )
                )
                offset += rng.expovariate(rate / 60)
    visitors.sort(key=lambda v: v.arrives)
    shifts = [_shift(spec, scenario.date, config) for spec in scenario.shifts]
    return Plan(config, scenario.date, visitors, shifts)


def _shift(spec: ShiftSpec, day: date, config: OfficeConfig) -> Shift:
    def moment(text: str) -> datetime:
        try:
            return datetime.combine(day, time.fromisoformat(text), config.tz)
        except ValueError:
            raise ScenarioError(
                f"shift {spec.counter}: {text!r} is not a time like 08:30"
            ) from None

    opens_text, _, closes_text = spec.hours.partition("-")
    breaks = []
    for text in spec.breaks:
        starts, _, minutes = text.partition("+")
        try:
            breaks.append((moment(starts), float(minutes)))
        except ValueError:
            raise ScenarioError(
                f"shift {spec.counter}: break {text!r} is not like 10:30+15"
            ) from None
    return Shift(spec.counter, moment(opens_text), moment(closes_text), tuple(breaks))
