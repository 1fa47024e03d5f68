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
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from aiohttp import web
from pythonjsonlogger.json import JsonFormatter

from server.engine import Engine, Event

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Answered = Callable[[web.Request, str, int, float], None]
"""Told of each answered request: its route's pattern, status and seconds."""
ANSWERED = web.AppKey("answered", list[Answered])
"""Who else wants each request's line (the metrics): one middleware times every request."""
events_log = logging.getLogger("lobby.events")
requests_log = logging.getLogger("lobby.requests")
TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"
PUBLIC_EVENT_FIELDS = ("service", "counter", "to_service", "from_service")
"""The parts of an event's data a log line may carry, besides the visit's id and number."""


FLUSH_SEC = 0.25
"""How long a line may wait in memory before it is written; a warning or worse goes at once."""


class BatchedLines(logging.StreamHandler):
    """Writes lines in one write a quarter of a second (``FLUSH_SEC``), not one write and flush
    per line: at hundreds of requests a second the server's log cost more than its check-ins.
    A stop writes what is left (``logging.shutdown`` closes every handler); a crash may lose
    the last quarter second of information lines, never a warning."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._wake = threading.Event()
        self._closed = False
        threading.Thread(target=self._writer, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)  # under the handler's lock, as flush takes the list
        if record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            lines, self._pending = self._pending, []
            if lines:
                self.stream.write("".join(lines))
                self.stream.flush()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()

    def _writer(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_SEC)
            self.flush()


class TextLines(logging.Formatter):
    """The text format, with each second's date and time written once: turning a record's
    time into text was a third of what a line cost at hundreds of lines a second."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"


def configure(log_format: str = "text", stream: object = None) -> None:
    """Send the whole process's log to stderr (or ``stream``) in ``log_format``."""
    # A line carries none of the caller's file, line, thread or process: finding them is most
    # of what a line costs (the "Optimization" advice of the logging documentation).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = BatchedLines(stream or sys.stderr)  # type: ignore[arg-type]
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
        handler.setFormatter(TextLines())
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
        seconds = time.perf_counter() - started
        route = route_of(request)
        ms = round(seconds * 1000, 1)
        for tell in request.app.get(ANSWERED, ()):
            tell(request, route, status, seconds)
        requests_log.info(
            "%s %s %d %.1f ms",
            request.method,
            route,
            status,
            ms,
            extra={"method": request.method, "route": route, "status": status, "ms": ms},
        )
