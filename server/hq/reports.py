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
from datetime import date, datetime
from typing import Any

from server.hq.database import Office, office_records
from server.hq.wire import config_of
from server.reports.figures import (
    DaySummary,
    build_report,
    figures,
    keep_settled_days,
    merge,
    overall_figures,
    period_summary,
)
from server.store.port import RecordReader


class OfficeCopy:
    """One office's records at headquarters, opened like a store's (``records()``)."""

    def __init__(self, url: str, hq_schema: str, office: Office) -> None:
        self.url, self.hq_schema, self.office = url, hq_schema, office

    @contextlib.contextmanager
    def records(self) -> Iterator[RecordReader]:
        with office_records(self.url, self.hq_schema, self.office.number) as reader:
            yield reader


def hq_report(
    url: str, hq_schema: str, offices: list[Office], first: date, last: date, now: datetime
) -> dict[str, Any]:
    """Every office's report over [first, last] (each office's own days), and all together."""
    reports: dict[str, dict[str, Any]] = {}
    summaries: list[DaySummary] = []
    services: dict[str, str] = {}
    for office in offices:
        if office.profile is None:  # registered, nothing received yet
            continue
        config = config_of(office.profile)
        local_now = now.astimezone(config.tz)
        with OfficeCopy(url, hq_schema, office).records() as reader:
            summary = period_summary(reader, config, first, last, local_now)
            reports[office.id] = build_report(reader, config, first, last, local_now, summary)
        summaries.append(summary)
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
    """Summarise settled days of every office ahead of the reports (housekeeping)."""
    kept = 0
    for office in offices:
        if office.profile is not None:
            config = config_of(office.profile)
            copy = OfficeCopy(url, hq_schema, office)
            kept += keep_settled_days(copy, config, now.astimezone(config.tz), budget_sec)
    return kept
