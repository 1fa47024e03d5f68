"""A month of an office's life, made offline: the printed monthly report and its pictures in
``docs/`` need a period with the shape of a real one (a morning rush, a thin lunch hour, busy
Mondays, a few visitors who give up), which a test cannot click through in reasonable time.

The visits are decided by the real engine, minute by minute, with the clock of each simulated
moment, and written through the log's own encoding (``benchmarks/year_start.py``'s writer) into
a database the store created; the store builds its visit records when it is first opened, as it
does after an upgrade. A fixed seed makes the month the same every time.
"""

from __future__ import annotations

import base64
import math
import random
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks.year_start import Desk, YearWriter, with_records
from server.config import OfficeConfig
from server.engine import Engine, Refused
from server.store.sqlite import SqliteStore

STAFF = {"w1": "Ana Ruiz", "w2": "Ben Okafor", "w3": "Chen Li", "w4": "Dana Moss"}
ARRIVALS_PER_HOUR = {8: 9, 9: 16, 10: 14, 11: 11, 12: 13, 13: 10, 14: 9, 15: 8, 16: 5}
"""Mean check-ins per hour of a Tuesday to Thursday (office time)."""
WEEKDAY_FACTOR = {0: 1.35, 1: 1.0, 2: 0.95, 3: 1.0, 4: 0.8}
SERVICE_MIX = (("permits", 0.5), ("billing", 0.35), ("records", 0.15))
OPENS, LAST_ARRIVAL, CLOSES = 8, 17, 18
LUNCH = {"w2": 12, "w4": 12, "w1": 13}
"""Who takes their hour's break when (the office runs short at lunch)."""


def working_days(month: date) -> list[date]:
    day, days = month.replace(day=1), []
    while day.month == month.month:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def build_month(path: Path, config: OfficeConfig, *months: date, seed: int = 11) -> None:
    """Every working day of each of ``months`` into a new database at ``path``, with its
    records."""
    with SqliteStore(path).offline():
        pass  # the store lays down its schema
    conn = sqlite3.connect(path, isolation_level=None)
    engine = Engine(config)
    writer = YearWriter(conn, config.retention_days)
    rng = random.Random(seed)
    for day in (d for month in months for d in working_days(month)):
        simulate_day(engine, day, rng, writer)
    writer.flush(None)
    conn.close()
    with_records(path, config)


def simulate_day(engine: Engine, day: date, rng: random.Random, writer: YearWriter) -> None:
    tz = engine.config.tz
    moment = datetime.combine(day, datetime.min.time(), tz).replace(hour=OPENS)
    closing = moment.replace(hour=CLOSES)
    desks = [Desk(c.id) for c in engine.config.counters]
    if day.weekday() == 4:  # Friday: Window 4 stays closed
        desks = desks[:3]
    for desk in desks:
        writer.add(engine.open_counter(moment, desk.id, STAFF[desk.id]))
    patience: dict[int, float] = {}
    while moment < closing:
        if moment.hour < LAST_ARRIVAL:
            rate = ARRIVALS_PER_HOUR.get(moment.hour, 0) * WEEKDAY_FACTOR[day.weekday()] / 60
            for _ in range(_poisson(rng, rate)):
                ticket_id = check_in(engine, moment, rng, writer)
                if ticket_id is not None:
                    patience[ticket_id] = rng.uniform(12, 45)
        for ticket in list(engine.open_tickets()):
            waited = (moment - ticket.arrived_at).total_seconds() / 60
            if ticket.state == "waiting" and waited > patience.get(ticket.id, math.inf):
                writer.add(engine.cancel(moment, ticket.id))
        for desk in desks:
            step_desk(engine, desk, moment, rng, writer)
        moment += timedelta(minutes=1)
    writer.add(engine.close_day(moment))
    for desk in desks:
        writer.add(engine.close_counter(moment, desk.id))


def _poisson(rng: random.Random, mean: float) -> int:
    count, limit, product = 0, math.exp(-mean), rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def check_in(engine: Engine, now: datetime, rng: random.Random, writer: YearWriter) -> int | None:
    services = [s for s, _ in SERVICE_MIX]
    service = rng.choices(services, [w for _, w in SERVICE_MIX])[0]
    try:
        ticket, events = engine.check_in(
            now,
            service=service,
            request_id=f"month-{now.isoformat()}-{rng.random()}",
            status_token=base64.urlsafe_b64encode(rng.randbytes(12)).decode(),
            ui_language=rng.choice(("en", "en", "en", "es", "so")),
        )
    except Refused:  # Vital Records keeps shorter hours
        return None
    writer.add(events)
    seen = now + timedelta(seconds=rng.uniform(2, 9))
    writer.add(engine.acknowledge(seen, ticket.id, "printed", seen))
    return ticket.id


def step_desk(
    engine: Engine, desk: Desk, now: datetime, rng: random.Random, writer: YearWriter
) -> None:
    lunch = LUNCH.get(desk.id)
    counter = engine.counter(desk.id)
    if desk.ticket is None and lunch is not None:
        if now.hour == lunch and counter.state == "open":
            writer.add(engine.take_break(now, desk.id))
            return
        if now.hour == lunch + 1 and counter.state == "break":
            writer.add(engine.open_counter(now, desk.id, STAFF[desk.id]))
    if desk.ticket is None:
        if counter.state != "open":
            return
        try:
            ticket, events = engine.call_next(now, desk.id)
        except Refused:
            return
        writer.add(events)
        desk.ticket, desk.started = ticket.id, False
        desk.until = now + timedelta(minutes=rng.choice((0, 1, 1, 2)))
        return
    assert desk.until is not None
    if now < desk.until:
        return
    ticket = engine.ticket(desk.ticket)
    if not desk.started:
        if rng.random() < 0.04:
            writer.add(engine.no_show(now, desk.ticket))
            desk.ticket = None
            return
        writer.add(engine.start(now, desk.ticket))
        mean = engine.services[ticket.service].mean_service_min
        desk.started, desk.until = True, now + timedelta(minutes=rng.expovariate(1 / mean))
        return
    if rng.random() < 0.03:
        other = "billing" if ticket.service != "billing" else "permits"
        writer.add(engine.transfer(now, desk.ticket, other, None, STAFF[desk.id]))
    else:
        needs_met = rng.random() < 0.92 if rng.random() < 0.85 else None
        writer.add(engine.complete(now, desk.ticket, needs_met, None, STAFF[desk.id]))
        if rng.random() < 0.2:
            writer.add(
                engine.answer_survey(
                    now, desk.ticket, rng.random() < 0.85, rng.choice((3, 4, 4, 5, 5))
                )
            )
    desk.ticket = None
