"""``GET /metrics``: the office in Prometheus' text format, for the operator's monitoring.

Every queue figure is read, at scrape time, from the state the server has *published* (the
same :class:`lobby.state.OfficeState` every screen holds, :mod:`server.publisher`): a graph
never shows a wait, a queue or a printer state no screen showed, and no figure is worked out a
second way here. Check-ins and calls are counted from the published patches' causes (one per
event); request and commit latencies are measured where they happen.

Only public and operational figures leave: services, counters, printers by device name, counts.
No ticket, and so no name, need or note, is ever read here.

Who may read it: a supervisor or an admin (signed in, or with a session token), or, when the
office's ``[security] metrics_from_loopback = true``, any request made to the server from this
machine itself with no proxy in between (a Prometheus on the same box).
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.auth import require
from server.keys import OFFICE
from server.logs import ANSWERED
from server.office import Office
from server.publisher import Outgoing

METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
LONG_LIVED = frozenset({"/ws", "/status/{token}/ws"})
"""Streams last as long as a screen is on: their "latency" would only measure that."""


class Metrics:
    """One server's registry (never the process-wide default: a test runs several servers)."""

    def __init__(self, office: Office) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "lobby_request_seconds",
            "Time to answer an HTTP request, by route",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self._request_timers: dict[tuple[str, str], Histogram] = {}
        self.commits = Histogram(
            "lobby_commit_seconds",
            "Time from a command's events handed to the store to their commit being durable",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        self.check_ins = Counter(
            "lobby_check_ins",
            "Check-ins published since the server started",
            registry=self.registry,
        )
        self.calls = Counter(
            "lobby_calls",
            "Calls and recalls published since the server started",
            registry=self.registry,
        )
        self.registry.register(PublishedState(office))
        office.publisher.listeners.append(self.published)
        office.commit_observers.append(self.commits.observe)

    def request_timer(self, method: str, route: str) -> Histogram:
        """The histogram of one route, found once: ``labels()`` takes a lock and builds its
        key on every call, which every request paid."""
        timer = self._request_timers.get((method, route))
        if timer is None:
            timer = self._request_timers[method, route] = self.requests.labels(method, route)
        return timer

    def published(self, out: Outgoing) -> None:
        """Count the events of a published patch (the supervisor's cause lists every one)."""
        patch = out.patches.get("supervisor")
        if patch is None or out.tick:
            return
        for kind in patch.cause:
            if kind == "ticket.checked_in":
                self.check_ins.inc()
            elif kind in ("ticket.called", "ticket.recalled"):
                self.calls.inc()


class PublishedState(Collector):
    """The gauges, read from the published state at each scrape."""

    def __init__(self, office: Office) -> None:
        self.office = office

    def collect(self) -> Iterator[Metric]:
        office = self.office
        public = office.publisher.published["public"]
        supervisor = office.publisher.published["supervisor"]
        seq = GaugeMetricFamily("lobby_published_seq", "The log's seq every screen holds")
        seq.add_metric([], public.seq)
        yield seq
        waiting = _gauge("lobby_waiting", "Visitors waiting, per service", "service")
        longest = _gauge("lobby_longest_wait_minutes", "Longest wait now, per service", "service")
        target = _gauge("lobby_target_wait_minutes", "The service's target wait", "service")
        level = _gauge(
            "lobby_wait_level",
            "1 for the longest wait's level against the target",
            "service",
            "level",
        )
        for service in public.services.values():
            waiting.add_metric([service.id], service.waiting)
            longest.add_metric([service.id], service.longest_wait_min)
            target.add_metric([service.id], service.target_wait_min)
            for name in ("ok", "near", "over"):
                level.add_metric([service.id, name], float(service.wait_level == name))
        yield from (waiting, longest, target, level)
        counters = _gauge("lobby_counters", "Counters in each state", "state")
        states: dict[str, int] = dict.fromkeys(("closed", "open", "calling", "serving", "break"), 0)
        for counter in public.counters.values():
            states[counter.state] = states.get(counter.state, 0) + 1
        for state, count in states.items():
            counters.add_metric([state], count)
        yield counters
        printers = _gauge(
            "lobby_printer_status",
            "1 for each kiosk printer's last reported status",
            "device",
            "status",
        )
        for printer in supervisor.printers.values():
            printers.add_metric([printer.device, printer.status], 1)
        yield printers
        emergency = supervisor.office.emergency if supervisor.office else None
        mode = _gauge(
            "lobby_emergency_mode",
            "1 for the configured emergency kind the office is in now (a drill is a kind)",
            "kind",
        )
        for configured in office.config.emergencies:
            on = emergency is not None and emergency.kind == configured.kind
            mode.add_metric([configured.kind], float(on))
        yield mode
        unacknowledged = GaugeMetricFamily(
            "lobby_emergency_screens_unacknowledged",
            "Screens expected to show the emergency that have not said so yet (0 without one)",
        )
        screens = emergency.screens if emergency else []
        unacknowledged.add_metric([], sum(1 for s in screens if s.acknowledged_at is None))
        yield unacknowledged
        alerts = GaugeMetricFamily("lobby_open_alerts", "Safety alerts not resolved yet")
        alerts.add_metric([], sum(1 for a in supervisor.alerts.values() if not a.resolved))
        yield alerts
        clients = _gauge("lobby_stream_clients", "Screens connected to the stream", "audience")
        audiences: dict[str, int] = dict.fromkeys(("public", "staff", "supervisor", "status"), 0)
        for client in office.hub.clients:
            kind = "status" if client.ticket is not None else client.audience
            audiences[kind] = audiences.get(kind, 0) + 1
        for audience, count in audiences.items():
            clients.add_metric([audience], count)
        yield clients
        storage = GaugeMetricFamily("lobby_storage_ok", "1 while the storage takes commits")
        storage.add_metric([], float(office.store.trouble is None))
        yield storage


def _gauge(name: str, documentation: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def from_this_machine(request: web.Request) -> bool:
    """A request from a loopback address that no proxy passed on (a proxy on the same box
    would make every visitor look local; it says so in its forwarding headers)."""
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    try:
        return ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def require_monitoring(request: web.Request) -> None:
    """/metrics and the doctor's facts: this machine's own scraper when the office allows it
    (``metrics_from_loopback``), else a supervisor or admin."""
    if not (
        request.app[OFFICE].config.security.metrics_from_loopback and from_this_machine(request)
    ):
        require(request, "supervisor", "admin")


async def metrics(request: web.Request) -> web.Response:
    require_monitoring(request)
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def time_request(request: web.Request, route: str, status: int, seconds: float) -> None:
    """Each answered request's time, by its route's pattern (never its path: a status page's
    path is its visitor's secret)."""
    if route not in LONG_LIVED:
        request.app[METRICS].request_timer(request.method, route).observe(seconds)


def add_metrics(app: web.Application, office: Office) -> None:
    app[METRICS] = Metrics(office)
    app.setdefault(ANSWERED, []).append(time_request)
    app.router.add_get("/metrics", metrics)
