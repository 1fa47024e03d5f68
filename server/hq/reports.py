"""Headquarters' reports: each office's own report, and every office's figures added up.

Each office's copy holds the office's visit records and their kept day summaries, so an
office's report at headquarters is ``build_report`` over them with the office's own services
and targets (from its profile): the same definitions (docs/measures.md), the same indexed
period queries, no replay. Across offices the period summaries add up (they are sums and
histograms), and the figures of the sum are computed by the same ``figures`` code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from server.config import OfficeConfig
from server.hq.database import Office, office_records
from server.hq.wire import config_of
from server.reports.figures import (
    DaySummary,
    build_report,
    cache_key,
    figures,
    keep_settled_days,
    merge,
    overall_figures,
    period_summary,
)
from server.store.port import RecordReader

REPORT_THREADS = 4


class OfficeCopy:
    """One office's records at headquarters, opened like a store's (``records()``)."""

    def __init__(self, url: str, hq_schema: str, office: Office) -> None:
        self.url, self.hq_schema, self.office = url, hq_schema, office

    @contextlib.contextmanager
    def records(self) -> Iterator[RecordReader]:
        with office_records(self.url, self.hq_schema, self.office.number) as reader:
            yield reader


def months_of(first: date, last: date) -> Iterator[tuple[date, date, bool]]:
    """The period cut at month ends: (first day, last day, whether it is the whole month)."""
    start = first
    while start <= last:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(last, following - timedelta(days=1))
        yield start, end, start.day == 1 and end == following - timedelta(days=1)
        start = following


def office_summary(
    reader: RecordReader, config: OfficeConfig, first: date, last: date, now: datetime
) -> DaySummary:
    """An office's period summary, as ``period_summary`` adds it up, with each whole settled
    month kept as one summary beside the days' (under a key of its own), so a year across
    many offices adds a dozen summaries per office instead of 250: the adding up, not the
    database, is what a long period costs."""
    key = "month:" + cache_key(config)
    settled = reader.settled_days(first, last)
    chunks = list(months_of(first, last))
    whole = {
        start.isoformat()[:7]
        for start, end, full in chunks
        if full and all((start + timedelta(days=d)).isoformat() in settled
                        for d in range((end - start).days + 1))
    }  # fmt: skip
    kept = reader.cached(key, whole) if whole else {}
    parts, fresh = [], {}
    for start, end, _ in chunks:
        month = start.isoformat()[:7]
        if month in kept:
            parts.append(msgspec.msgpack.decode(kept[month], type=DaySummary))
            continue
        summary = period_summary(reader, config, start, end, now)
        parts.append(summary)
        if month in whole:
            fresh[month] = msgspec.msgpack.encode(summary)
    reader.keep(key, fresh)
    return merge(parts)


def hq_report(
    url: str, hq_schema: str, offices: list[Office], first: date, last: date, now: datetime
) -> dict[str, Any]:
    """Every office's report over [first, last] (each office's own days), and all together."""

    def one(office: Office) -> tuple[OfficeConfig, DaySummary, dict[str, Any]]:
        assert office.profile is not None
        config = config_of(office.profile)
        local_now = now.astimezone(config.tz)
        with OfficeCopy(url, hq_schema, office).records() as reader:
            summary = office_summary(reader, config, first, last, local_now)
            return config, summary, build_report(reader, config, first, last, local_now, summary)

    shipped = [o for o in offices if o.profile is not None]  # others have sent nothing yet
    # a few offices at once: while one waits for PostgreSQL another adds up its summaries
    with ThreadPoolExecutor(max_workers=REPORT_THREADS) as pool:
        done = list(pool.map(one, shipped))
    reports = {office.id: report for office, (_, _, report) in zip(shipped, done, strict=True)}
    summaries = [summary for _, summary, _ in done]
    services: dict[str, str] = {}
    for config, _, _ in done:
        for service in config.services:
            services.setdefault(service.id, service.name)
    total = merge(summaries)
    by_service = total.visits.get("service", {})
    legs_by_service = total.legs.get("service", {})
    return {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "as_of": now.isoformat(timespec="seconds"),
        "overall": overall_figures(total, list(services)),
        "services": {
            service_id: {"name": name}
            | figures(
                by_service.get(service_id, {}),
                legs_by_service.get(service_id, {}),
                total,
                [service_id],
            )
            for service_id, name in services.items()
        },
        "offices": {
            office_id: {"name": report["office"], **report["overall"]}
            for office_id, report in reports.items()
        },
        "office_reports": reports,
    }


def keep_summaries(
    url: str, hq_schema: str, offices: list[Office], now: datetime, budget_sec: float
) -> int:
    """Summarise settled days of every office ahead of the reports (housekeeping), and once an
    office's days are all kept, its settled months of the last year too."""
    kept = 0
    for office in offices:
        if office.profile is not None:
            config = config_of(office.profile)
            copy = OfficeCopy(url, hq_schema, office)
            local_now = now.astimezone(config.tz)
            days = keep_settled_days(copy, config, local_now, budget_sec)
            kept += days
            if not days:
                with copy.records() as reader:
                    year_ago = local_now.date() - timedelta(days=366)
                    office_summary(reader, config, year_ago, local_now.date(), local_now)
    return kept
