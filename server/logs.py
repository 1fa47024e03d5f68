"""The server's log: one line per durable event and per answered request, as text or as one
JSON object per line (``lobby serve --log-format json``) for a log collector.

Nothing private reaches a line: an event's line carries its kind, its seq, and the visit's
ticket id, number, service and counter, picked one by one from the event (never the event's
data as a whole, which holds names, needs and notes); a request's line carries its method, its
route's pattern (never the path: a status page's path is the visitor's own secret, and a query
may carry a device token), its status and its time. Bodies are never logged.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from pythonjsonlogger.json import JsonFormatter

from server.engine import Engine, Event

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
events_log = logging.getLogger("lobby.events")
requests_log = logging.getLogger("lobby.requests")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"
PUBLIC_EVENT_FIELDS = ("service", "counter", "to_service", "from_service")
"""The parts of an event's data a log line may carry, besides the visit's id and number."""


def configure(log_format: str = "text", stream: object = None) -> None:
    """Send the whole process's log to stderr (or ``stream``) in ``log_format``."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # The access log writes whole paths and queries (tokens): the request lines replace it.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def log_events(engine: Engine, events: list[Event], last_seq: int) -> None:
    """One line per event of a durable batch (its events hold consecutive seqs to
    ``last_seq``)."""
    if not events_log.isEnabledFor(logging.INFO):
        return
    first = last_seq - len(events) + 1
    for seq, event in enumerate(events, start=first):
        fields: dict[str, object] = {"seq": seq, "kind": event.kind}
        ticket_id = event.data.get("id") if event.kind.startswith("ticket.") else None
        if isinstance(ticket_id, int):
            ticket = engine.tickets.get(ticket_id)
            fields["ticket_id"] = ticket_id
            fields["ticket"] = ticket.number if ticket is not None else None
        for name in PUBLIC_EVENT_FIELDS:
            value = event.data.get(name)
            if isinstance(value, str):
                fields[name] = value
        if event.kind.startswith("emergency."):  # which one, of what kind, which screen
            fields["emergency"] = event.data["emergency"]
            for name in ("kind", "screen"):
                if isinstance(event.data.get(name), str):
                    fields[f"emergency_{name}" if name == "kind" else name] = event.data[name]
        if isinstance(event.data.get("ids"), list):
            fields["tickets"] = len(event.data["ids"])
        words = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("kind", "seq"))
        events_log.info("%s seq=%d %s", event.kind, seq, words, extra=fields)


def route_of(request: web.Request) -> str:
    """The pattern of the route that answered (``/status/{token}``), never the path itself."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_lines(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per answered request (the outermost middleware: it sees the final status)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_of(request)
        ms = round((time.perf_counter() - started) * 1000, 1)
        requests_log.info(
            "%s %s %d %.1f ms",
            request.method,
            route,
            status,
            ms,
            extra={"method": request.method, "route": route, "status": status, "ms": ms},
        )
