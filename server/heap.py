"""How the serving process keeps CPython's cycle collector from walking the office's state.

A busy office holds tens of thousands of long-lived objects: every open visit, its views as
last published to each audience, the estimates and the visit records. The cycle collector
visits every object of a generation each time that generation is collected, and at CPython's
default thresholds (a young collection every 700 allocations, a full one every 100 young ones)
a check-in burst into a long line spent more time there than in its own work, in pauses that
grew with the line (the 32-client check-in benchmark: p99 88 ms with the defaults, 25 ms with
this policy).

Lobby's own request path frees what it makes by reference counting, so the collector has
little to find. It still runs, just less often: the young generation is collected after
:data:`YOUNG` net allocations, which still gathers a request's rare cycles (an exception and
its frames) before they add up to much, and everything the start loaded is frozen out of the
collector's walks.
"""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG = 200_000
"""Allocations, less deallocations, between young collections (CPython's default is 700).
What a request makes it also frees, so this counts what the office keeps: at 50,000 a burst
into a long line still paid for several collections of the visits it had just added (the
32-client benchmark ran 8 points slower against the bare insert, side by side); a day's
visits in a real office stay below it, and a leaked cycle waits at most that long."""
MIDDLE = 20
"""Young collections between collections of the middle generation."""
OLD = 10
"""Middle collections between full ones; CPython also waits until the old generation has
grown by a quarter since the last one."""


def keep_collector_off_the_state(app: web.Application) -> None:
    """For ``lobby serve``: the thresholds now, and a freeze once the start has loaded the
    office (the engine rebuilt from its snapshot), so full collections skip what was loaded."""
    gc.set_threshold(YOUNG, MIDDLE, OLD)

    async def freeze(app: web.Application) -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)
