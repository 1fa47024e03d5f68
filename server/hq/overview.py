"""The overview of every office: what headquarters' folded summaries say, one row each.

Each figure is read from the office's row in ``hq_offices``, kept current by every batch
(``server.hq.ingest``): nothing is summed from history here. The clock only moves how long
the longest waiting visitor has waited and how long ago the office was last heard from.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from server.hq.database import Office
from server.hq.wire import Profile
from server.store.encoding import epoch_us

REFRESH_SEC = 5
SILENT_AFTER_SEC = 120
"""An office not heard from for this long is marked: its link may be down."""


def _targets(profile: Profile | None) -> dict[str, tuple[str, float]]:
    if profile is None:
        return {}
    return {s.id: (s.name, s.target_wait_min) for s in profile.services}


def office_row(office: Office, now: datetime) -> dict[str, Any]:
    """One office's line of the overview, as JSON and the page show it."""
    now_us = epoch_us(now)
    targets = _targets(office.profile)
    longest: dict[str, Any] | None = None
    for service, (count, oldest_us) in office.waiting.items():
        name, target = targets.get(service, (service, 0.0))
        minutes = max(0.0, (now_us - oldest_us) / 60e6)
        share = minutes / target if target else None
        if longest is None or (share or 0) > (longest["of_target"] or 0):
            longest = {
                "service": service,
                "service_name": name,
                "wait_min": round(minutes, 1),
                "target_wait_min": target,
                "of_target": None if share is None else round(share, 2),
                "waiting": count,
            }
    heard = None
    if office.heard_at is not None:
        heard = round((now - datetime.fromisoformat(office.heard_at)).total_seconds(), 1)
    return {
        "id": office.id,
        "name": office.profile.name if office.profile else office.id,
        "waiting": sum(count for count, _ in office.waiting.values()),
        "longest_wait": longest,
        "counters_open": office.counters_open,
        "counters": len(office.profile.counters) if office.profile else 0,
        "received_seq": office.received_seq,
        "head_seq": office.head_seq,
        "events_behind": max(0, office.head_seq - office.received_seq),
        "last_event_at": office.last_event_at,
        "heard_at": office.heard_at,
        "heard_sec_ago": heard,
        "silent": heard is None or heard > SILENT_AFTER_SEC,
        "events_received": office.events_received,
        "duplicates_received": office.duplicates_received,
    }


def overview(offices: list[Office], now: datetime) -> dict[str, Any]:
    return {
        "as_of": now.isoformat(timespec="seconds"),
        "offices": [office_row(o, now) for o in offices],
    }


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _as_of(at: str) -> str:
    """When the page was made, on headquarters' own clock, as a person reads it: "Thu 3 Dec
    2026, 09:41:07 CST" (the JSON keeps the ISO time for programs)."""
    local = datetime.fromisoformat(at).astimezone()
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M:%S} {local.tzname() or ''}".rstrip()


def _moment(at: str | None) -> str:
    """An event's time as the office's clock showed it, to the minute."""
    return "–" if at is None else at[:16].replace("T", " ")


def _longest(row: dict[str, Any]) -> str:
    longest = row["longest_wait"]
    if longest is None:
        return "–"
    text = (
        f"{longest['wait_min']:.0f} min of {longest['target_wait_min']:g}"
        f" ({html.escape(longest['service_name'])})"
    )
    late = (longest["of_target"] or 0) > 1
    return f'<span class="late">{text}</span>' if late else text


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Headquarters · every office</title>
<style>
body {{ font: 16px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; }}
h1 {{ font-size: 1.5rem; margin: 0 0 .25rem; }}
p.as-of {{ color: #555; margin: 0 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #ddd; }}
th {{ background: #f2f2f2; font-weight: 600; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.late {{ color: #a40000; font-weight: 600; }}
tr.silent td {{ background: #fff4e0; }}
</style></head><body>
<h1>Every office</h1>
<p class="as-of">As of {as_of} · refreshed every {refresh} s · a shaded office has not been
heard from for {silent} s: its link may be down, and it ships what it kept when it is back.</p>
<table>
<thead><tr><th>Office</th><th>Waiting</th><th>Longest wait vs target</th><th>Counters open</th>
<th>Last event</th><th>Heard from</th><th>Behind</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def overview_page(data: dict[str, Any]) -> str:
    rows = []
    for row in data["offices"]:
        behind = f"{row['events_behind']:,} events" if row["events_behind"] else "up to date"
        rows.append(
            f'<tr class="{"silent" if row["silent"] else ""}">'
            f"<td>{html.escape(row['name'])}</td>"
            f'<td class="n">{row["waiting"]}</td>'
            f"<td>{_longest(row)}</td>"
            f'<td class="n">{row["counters_open"]} of {row["counters"]}</td>'
            f"<td>{html.escape(_moment(row['last_event_at']))}</td>"
            f"<td>{_ago(row['heard_sec_ago'])}</td>"
            f"<td>{behind}</td></tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="7">No office has sent its log yet.</td></tr>')
    return PAGE.format(
        refresh=REFRESH_SEC,
        as_of=html.escape(_as_of(data["as_of"])),
        silent=SILENT_AFTER_SEC,
        rows="\n".join(rows),
    )
