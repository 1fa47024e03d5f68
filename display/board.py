"""``lobby display``: the lobby board for a terminal on a wall screen.

The same information as the browser page (``/display``): the newest calls in block letters,
the earlier calls, each service's queue and estimated wait (or its hours), the supervisor's
notice and a clock. It follows the live stream with :func:`lobby.client.live`, which resumes
after a lost connection, and rings the terminal bell once for each new call, in turn; calls
replayed after a reconnect or a restart are never rung again (see :mod:`display.calls`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import Static

from display.call_lines import CallLine, EarlierCalls
from display.calls import CallBoard
from display.labels import known, label, side_by_side
from display.service_list import ServiceList
from lobby import protocol as p
from lobby.client import ApiError, StreamMessage, live

NOW_LINES = 4
ANNOUNCE_SEC = 3.0
StreamFactory = Callable[[Callable[[bool], None]], AsyncIterator[StreamMessage]]


class LobbyBoard(App[None]):
    CSS_PATH = "board.tcss"
    TITLE = "Lobby display"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(
        self,
        server: str,
        token: str,
        *,
        stream: StreamFactory | None = None,
        clock: Callable[[], datetime] | None = None,
        announce_sec: float = ANNOUNCE_SEC,
    ) -> None:
        """``stream`` and ``clock`` default to the live server and the real time; tests pass
        a fixed clock so what is drawn does not change from run to run."""
        super().__init__()
        self._stream: StreamFactory = stream or (
            lambda on_connection: live(server, token, on_connection=on_connection)
        )
        self._clock = clock
        self._announce_sec = announce_sec
        self.book = CallBoard()
        self.office: p.OfficeView | None = None
        self.services: list[p.ServiceView] = []
        self.announced: list[str] = []
        self.messages = 0
        self._queue: deque[p.CallView] = deque()
        self._announcing: str | None = None
        self._announce_timer: Timer | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="head"):
            yield Static("", id="office")
            yield Static("", id="reconnecting")
            yield Static("", id="clock")
        yield Static("", id="problem")
        yield Static("", id="now-title", classes="title")
        with Vertical(id="now"):
            for i in range(NOW_LINES):
                yield CallLine(id=f"now-{i}", classes="call-line")
        with Horizontal(id="lower"):
            with Vertical(id="earlier-box"):
                yield Static("", id="earlier-title", classes="title")
                yield EarlierCalls(id="earlier")
            with Vertical(id="services-box"):
                yield Static("", id="services-title", classes="title")
                yield ServiceList(id="services")
        yield Static("", id="notice")

    def on_mount(self) -> None:
        self._render_board()
        self._tick()
        self.set_interval(1.0, self._tick)
        self.follow()

    def on_resize(self, event: Resize) -> None:
        self.screen.set_class(event.size.height >= 44 and event.size.width >= 150, "-large")

    # ------------------------------------------------------------------ stream

    @work(exclusive=True, exit_on_error=False, group="stream")
    async def follow(self) -> None:
        try:
            async for message in self._stream(self._connection):
                self.apply(message)
        except ApiError as exc:
            self._problem(f"{exc.message}. Check the --token given to lobby display.")

    def _connection(self, up: bool) -> None:
        if self.is_running:
            self.query_one("#reconnecting", Static).set_class(not up, "-on")

    def apply(self, message: StreamMessage) -> None:
        """Take one stream message; ring for the calls that are new."""
        now = self.now()
        if isinstance(message, p.StreamSnapshot):
            self.office = message.state.office
            self.services = message.state.services
            new = self.book.snapshot(message.state, now)
            self._tick()
        else:
            self.services = message.services
            if message.kind == "office.notice" and self.office is not None:
                self.office.notice = message.notice or ""
            new = self.book.event(message, now)
        self.messages += 1
        self._queue.extend(new)
        if self._announcing is None:
            self._next_announcement()
        self._render_board()

    # --------------------------------------------------------------- announcing

    def _next_announcement(self) -> None:
        """Ring and highlight one call, then the next: calls made together each get a turn."""
        self._announcing = None
        if self._queue:
            call = self._queue.popleft()
            self._announcing = call.number
            self.announced.append(call.number)
            self.bell()
            self._announce_timer = self.set_timer(self._announce_sec, self._after_announcement)

    def _after_announcement(self) -> None:
        self._next_announcement()
        self._render_board()

    # ---------------------------------------------------------------- drawing

    def now(self) -> datetime:
        return self._clock() if self._clock is not None else datetime.now(UTC)

    @property
    def languages(self) -> list[str]:
        return known(self.office.languages if self.office else ["en"])

    def _render_board(self) -> None:
        languages = self.languages
        lang = languages[0]
        office = self.office
        self.query_one("#office", Static).update(office.name if office else "Lobby")
        self.query_one("#reconnecting", Static).update(f"⟳ {label('reconnecting', lang)}")
        self.query_one("#now-title", Static).update(side_by_side("now_serving", languages))
        self.query_one("#earlier-title", Static).update(side_by_side("earlier_calls", languages))
        self.query_one("#services-title", Static).update(side_by_side("waiting_title", languages))
        calls = self.book.calls
        for i, line in enumerate(self.query(CallLine)):
            call = calls[i] if i < len(calls) else None
            line.set_class(call is not None and call.number == self._announcing, "-announcing")
            line.set_class(call is None, "-empty")
            line.badge = label("called_again", lang)
            line.call = call
            line.refresh()
        announcing = {self._announcing} if self._announcing else set()
        self.query_one(EarlierCalls).show(calls[NOW_LINES:], announcing)
        self.query_one(ServiceList).show(self.services, lang)
        notice = self.query_one("#notice", Static)
        notice.update(office.notice if office else "")
        notice.set_class(not (office and office.notice), "-blank")

    def _tick(self) -> None:
        now = self.now()
        if self.office is not None:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                now = now.astimezone(ZoneInfo(self.office.timezone))
        self.query_one("#clock", Static).update(now.strftime("%H:%M"))

    def _problem(self, text: str) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(text)
        problem.add_class("-on")


def main(args: argparse.Namespace) -> int:
    server = str(args.server).strip().rstrip("/")
    token = str(args.token).strip()
    if not server.startswith(("http://", "https://")):
        print("lobby display: --server must start with http:// or https://", file=sys.stderr)
        return 2
    if not token:
        print("lobby display: --token is empty; give the display device's token", file=sys.stderr)
        return 2
    LobbyBoard(server, token).run()
    return 0
