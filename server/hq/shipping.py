"""The office's side of replication: a background task that ships the log to headquarters.

The office's own store stays the source of truth; this task only reads it. It asks
headquarters where that office's copy ends, then sends what follows in seq order, a batch at a
time, and moves on by what headquarters answers (``Received.received``), never by what it
sent. Delivery is therefore at least once: a batch whose answer was lost is sent again and
headquarters keeps one copy. While headquarters cannot be reached the task waits, a little
longer each time (up to a minute), and then goes on from where headquarters' copy ends, oldest
first. Nothing here touches a command: a check-in never waits for it and never fails because
of it.

Private fields (``PRIVATE_FIELDS``: names, needs, notes) are blanked before a batch leaves,
unless the office configuration says ``share_private = true``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import aiohttp
import msgspec
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.config import HeadquartersConfig, OfficeConfig
from server.engine import Event
from server.hq.wire import Batch, Profile, Received, WireEvent, profile_of
from server.store.port import PRIVATE_FIELDS, Logged, Store

log = logging.getLogger("lobby.headquarters")
IDLE_POLL_SEC = 0.2
"""How often an office with nothing new looks at its log's end (an attribute read)."""
RETRY_FIRST_SEC = 0.5
RETRY_MAX_SEC = 60.0
REQUEST_TIMEOUT_SEC = 30.0


def shareable(event: Event, share_private: bool) -> Event:
    """The event as it may leave the office: private fields blanked, as a purge blanks them."""
    fields = PRIVATE_FIELDS.get(event.kind)
    if share_private or not fields:
        return event
    return Event(event.kind, event.at, event.data | dict.fromkeys(fields))


def wire_events(logged: list[Logged], share_private: bool) -> list[WireEvent]:
    events = []
    for seq, event in logged:
        data = shareable(event, share_private).data
        events.append(WireEvent(seq, event.at.isoformat(), event.kind, data))
    return events


class Stuck(Exception):
    """Shipping cannot go on until someone acts (a token, an office id); the message says
    what is wrong."""


class Refused(Stuck):
    """Headquarters refused a batch; ``expected`` is the seq it wants next (a gap)."""

    def __init__(self, status: int, code: str, message: str, expected: int | None) -> None:
        super().__init__(f"headquarters refused the log: {status} {code}: {message}")
        self.status, self.code, self.expected = status, code, expected


@dataclass
class Shipping:
    """How far shipping has got, for logs and the office's metrics."""

    received: int | None = None
    """The last seq headquarters said it holds; None until it answered once."""
    confirmed: int = 0
    """The last seq headquarters confirmed holding, kept while it cannot be reached."""
    trouble: str | None = None
    sent_batches: int = 0
    since: float = field(default_factory=time.monotonic)


class Shipper:
    """Ships ``store``'s log to the headquarters ``settings`` names."""

    def __init__(self, config: OfficeConfig, settings: HeadquartersConfig, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.profile: Profile = profile_of(config)
        self.state = Shipping()
        base = f"{settings.url}/api/hq/offices/{settings.office_id}"
        self.events_url, self.position_url = f"{base}/events", f"{base}/position"

    def _token(self) -> str:
        """Read at each request: a re-issued token is picked up without a restart."""
        path = self.settings.token_file
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise Stuck(f"cannot read headquarters.token_file {path} ({exc.strerror})") from None
        if not token:
            raise Stuck(f"headquarters.token_file {path} is empty")
        return token

    async def _answer(self, response: aiohttp.ClientResponse) -> Received:
        body = await response.read()
        if response.status == 200:
            return msgspec.json.decode(body, type=Received)
        try:
            found = msgspec.json.decode(body)
            error, expected = found["error"], found.get("expected_seq")
            code, message = str(error["code"]), str(error["message"])
        except (msgspec.DecodeError, KeyError, TypeError):
            code, message, expected = "error", body[:200].decode(errors="replace"), None
        raise Refused(response.status, code, message, expected)

    async def position(self, http: aiohttp.ClientSession) -> int:
        headers = {"Authorization": f"Bearer {self._token()}"}
        async with http.get(self.position_url, headers=headers) as response:
            return (await self._answer(response)).received

    async def send(self, http: aiohttp.ClientSession, logged: list[Logged]) -> Received:
        batch = Batch(
            self.store.last_seq,
            wire_events(logged, self.settings.share_private),
            self.profile,
        )
        headers = {
            "Authorization": f"Bearer {self._token()}",
            "Content-Type": "application/json",
        }
        async with http.post(
            self.events_url, data=msgspec.json.encode(batch), headers=headers
        ) as response:
            return await self._answer(response)

    async def run(self) -> None:
        """Ship for as long as the office runs; every failure is waited out and retried."""
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SEC)
        delay = RETRY_FIRST_SEC
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    await self._step(http)
                    delay = RETRY_FIRST_SEC
                except asyncio.CancelledError:
                    raise
                except Stuck as stuck:
                    if isinstance(stuck, Refused) and stuck.expected is not None:
                        self.state.received = stuck.expected - 1  # a gap: go on from HQ's end
                        continue
                    self._trouble(str(stuck))
                    delay = RETRY_MAX_SEC  # a wrong token or office id: someone must act
                    await asyncio.sleep(delay)
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    self._trouble(f"headquarters not reachable ({type(exc).__name__}: {exc})")
                    self.state.received = None  # ask again where its copy ends
                    await asyncio.sleep(delay)
                    delay = min(RETRY_MAX_SEC, delay * 2)
                except Exception as exc:  # a store read failed, say: the next round tries again
                    log.exception("shipping the log failed")
                    self._trouble(f"shipping failed ({type(exc).__name__})")
                    await asyncio.sleep(delay)
                    delay = min(RETRY_MAX_SEC, delay * 2)

    def _trouble(self, text: str) -> None:
        if self.state.trouble != text:
            log.warning("%s; the office keeps working and ships later", text)
        self.state.trouble = text

    async def _step(self, http: aiohttp.ClientSession) -> None:
        if self.state.received is None:
            self.state.received = self.state.confirmed = await self.position(http)
            if self.state.trouble is not None:
                log.info("headquarters holds this office's log up to seq %d", self.state.received)
            self.state.trouble = None
        if self.store.last_seq <= self.state.received:
            await asyncio.sleep(IDLE_POLL_SEC)
            return
        logged = await self.store.events_since(self.state.received, self.settings.batch)
        if not logged:  # handed to the store but not yet durable
            await asyncio.sleep(IDLE_POLL_SEC)
            return
        answer = await self.send(http, logged)
        self.state.received = self.state.confirmed = answer.received
        self.state.sent_batches += 1
        self.state.trouble = None


class ShippingGauges(Collector):
    """Shipping, as the office's ``/metrics`` shows it: a link to headquarters that stays down
    is seen by the office's own monitoring, not only in its log."""

    def __init__(self, state: Shipping, store: Store) -> None:
        self.state, self.store = state, store

    def collect(self) -> Iterator[Metric]:
        state = self.state
        reachable = GaugeMetricFamily(
            "lobby_headquarters_reachable",
            "1 while headquarters answers and takes this office's log",
        )
        reachable.add_metric([], float(state.received is not None and state.trouble is None))
        yield reachable
        behind = GaugeMetricFamily(
            "lobby_headquarters_unshipped_events",
            "Events of this office's log headquarters has not confirmed holding yet",
        )
        behind.add_metric([], max(0, self.store.last_seq - state.confirmed))
        yield behind


def shipper_for(config: OfficeConfig, store: Store) -> Shipper | None:
    """The office server's background shipping, when its configuration names headquarters."""
    if config.headquarters is None:
        return None
    return Shipper(config, config.headquarters, store)
