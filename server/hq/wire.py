"""What an office sends headquarters and what it answers: one contract for both sides.

An office posts its log in batches to ``/api/hq/offices/{office}/events``, in seq order and
with its own token. Each batch carries the office's profile (its name, time zone, services and
counters, so headquarters reports with the office's own targets) and how far its log has got
(``head``), so headquarters can say how far behind the office is. Nothing in a profile is
about a visitor.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from server.config import (
    CounterConfig,
    OfficeConfig,
    PriorityRule,
    ServiceConfig,
)

BATCH_LIMIT = 2000
"""The most events headquarters takes in one request."""
Seq = Annotated[int, Meta(ge=1)]
Kind = Annotated[str, Meta(pattern=r"^[a-z_]+\.[a-z_]+$", max_length=40)]


class ServiceProfile(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    target_wait_min: Annotated[float, Meta(gt=0)]
    mean_service_min: Annotated[float, Meta(gt=0)] = 8.0
    prefix: str = ""


class CounterProfile(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    services: list[str]


class Profile(msgspec.Struct, forbid_unknown_fields=True):
    """The office as its reports need it."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    timezone: str
    services: list[ServiceProfile]
    counters: list[CounterProfile]


class WireEvent(msgspec.Struct, forbid_unknown_fields=True):
    seq: Seq
    at: Annotated[str, Meta(max_length=40)]
    kind: Kind
    data: dict[str, Any]


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    head: Annotated[int, Meta(ge=0)]
    """The office's last seq when it sent this batch."""
    events: Annotated[list[WireEvent], Meta(max_length=BATCH_LIMIT)]
    profile: Profile | None = None


class Received(msgspec.Struct):
    """Headquarters' answer to a batch (and to "where are we?"): the last seq it holds of this
    office, and how many of the batch were new and how many it held already."""

    received: int
    new: int = 0
    duplicates: int = 0


def profile_of(config: OfficeConfig) -> Profile:
    return Profile(
        config.name,
        config.timezone,
        [
            ServiceProfile(s.id, s.name, s.target_wait_min, s.mean_service_min, s.prefix)
            for s in config.services
        ],
        [CounterProfile(c.id, c.name, list(c.services)) for c in config.counters],
    )


def config_of(profile: Profile) -> OfficeConfig:
    """An office configuration that holds what headquarters knows of the office: enough for
    its reports (the shared report code takes a configuration), nothing it does not know."""
    return OfficeConfig(
        name=profile.name,
        timezone=profile.timezone,
        languages=("en",),
        public_url="http://headquarters.invalid",
        retention_days=30,
        notice="",
        idle_nudge_sec=60,
        safety_checklist=(),
        services=tuple(
            ServiceConfig(
                s.id,
                s.name,
                s.prefix,
                s.target_wait_min,
                s.mean_service_min,
                time(0),
                time.max,
                "",
                3,
            )
            for s in profile.services
        ),
        counters=tuple(CounterConfig(c.id, c.name, tuple(c.services)) for c in profile.counters),
        priority=PriorityRule((), False, 0.0),
        source="<headquarters>",
    )
