"""``lobby display``: the lobby board for a terminal on a wall screen.

The same information as the browser page (``/display``): the calls now being served in block
letters, the earlier calls, each service's queue and estimated wait (or its hours), the
supervisor's notice and a clock. It folds the live stream with :class:`lobby.state.OfficeState`
and draws what the server decided: which calls are now serving, which are earlier, and which
to announce (each call once, also across a reconnect or a restart). Each announced call rings
the terminal bell and is highlighted for a few seconds, one after the other.

In emergency mode (or a drill) the board shows only the emergency, as the page does but
without sound, announces no call, and tells the server it shows it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Static

from display.call_lines import CallLine, EarlierCalls
from display.labels import known, label, side_by_side
from display.service_list import ServiceList
from lobby import protocol as p
from lobby.client import ApiError, LobbyClient, StreamMessage, live
from lobby.emergency import Acknowledgements, EmergencyPanel, acknowledge, showing
from lobby.state import OfficeState

NOW_LINES = 4
ANNOUNCE_SEC = 3.0
ROWS_AROUND = 13
"""Rows the header, the titles, the notice and a few earlier calls and services need: the big
lines take what is left, so an 80x24 terminal still shows the queues."""
ROWS_PER_LINE = {"-compact": 3, "": 4, "-large": 6}
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
        self._server, self._token = server, token
        self._client: LobbyClient | None = None
        self.acknowledgements = Acknowledgements()
        self._stream: StreamFactory = stream or (
            lambda on_connection: live(server, token, on_connection=on_connection)
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        self._clock_offset = timedelta(0)
        self._announce_sec = announce_sec
        self.state = OfficeState()
        self.announced: list[str] = []
        self.messages = 0
        self._queue: deque[p.CallView] = deque()
        self._announcing: p.CallView | None = None
        # Held rather than queried: a timer that fires while the app shuts down finds them
        # even after the screen has dropped them.
        self._office = Static("", id="office")
        self._reconnecting = Static("", id="reconnecting")
        self._clock_text = Static("", id="clock")
        self._problem_text = Static("", id="problem")
        self._titles = {
            key: Static("", id=f"{name}-title", classes="title")
            for key, name in (
                ("now_serving", "now"),
                ("earlier_calls", "earlier"),
                ("waiting_title", "services"),
            )
        }
        self._lines = [CallLine(id=f"now-{i}", classes="call-line") for i in range(NOW_LINES)]
        self._earlier = EarlierCalls(id="earlier")
        self._services = ServiceList(id="services")
        self._notice = Static("", id="notice")
        self._emergency = EmergencyPanel(id="emergency")

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="head"):
            yield self._office
            yield self._reconnecting
            yield self._clock_text
        yield self._problem_text
        yield self._titles["now_serving"]
        with Vertical(id="now"):
            yield from self._lines
        with Horizontal(id="lower"):
            with Vertical(id="earlier-box"):
                yield self._titles["earlier_calls"]
                yield self._earlier
            with Vertical(id="services-box"):
                yield self._titles["waiting_title"]
                yield self._services
        yield self._notice
        yield self._emergency

    def on_mount(self) -> None:
        self._render_board()
        self._tick()
        self.set_interval(1.0, self._tick)
        self.follow()

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.close()

    def on_resize(self, event: Resize) -> None:
        """As many big lines as fit; how many depends on the terminal, never on the calls."""
        width, height = event.size
        size = "-large" if height >= 44 and width >= 150 else "-compact" if height < 30 else ""
        for name in ROWS_PER_LINE:
            if name:
                self.screen.set_class(name == size, name)
        fit = max(1, min(NOW_LINES, (height - ROWS_AROUND) // ROWS_PER_LINE[size]))
        for i, line in enumerate(self._lines):
            line.display = i < fit

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
            self._reconnecting.set_class(not up, "-on")

    def apply(self, message: StreamMessage) -> None:
        """Fold one stream message and queue the calls the server says to announce."""
        applied = self.state.apply(message)
        self.messages += 1
        if applied.snapshot:
            with contextlib.suppress(ValueError):
                self._clock_offset = datetime.fromisoformat(self.state.now) - self._clock()
            self._tick()
        emergency = self.state.office.emergency if self.state.office else None
        if emergency is None:
            self._queue.extend(applied.announce)
        else:
            self._queue.clear()  # no call is announced in emergency mode
        if self._announcing is None:
            self._next_announcement()
        self._render_board()

    def on_emergency_panel_shown(self, event: EmergencyPanel.Shown) -> None:
        if self.acknowledgements.due(event.emergency):
            self.acknowledge_emergency(event.emergency)

    @work(group="emergency-ack", exit_on_error=False)
    async def acknowledge_emergency(self, emergency_id: int) -> None:
        """Tell the server this board shows the emergency, until it answers."""
        if self._client is None:
            self._client = LobbyClient(self._server, self._token)
        client = self._client

        if await acknowledge(
            lambda: client.emergency_ack(emergency_id),
            lambda: showing(self.state.office, emergency_id),
        ):
            self.acknowledgements.answered.append(emergency_id)

    # --------------------------------------------------------------- announcing

    def _next_announcement(self) -> None:
        """Ring and highlight one call, then the next: calls made together each get a turn."""
        self._announcing = self._queue.popleft() if self._queue else None
        if self._announcing is not None:
            self.announced.append(self._announcing.number)
            self.bell()
            self.set_timer(self._announce_sec, self._after_announcement)

    def _after_announcement(self) -> None:
        self._next_announcement()
        self._render_board()

    # ---------------------------------------------------------------- drawing

    @property
    def languages(self) -> list[str]:
        return known(self.state.languages or ["en"])

    def _render_board(self) -> None:
        languages = self.languages
        lang = languages[0]
        office = self.state.office
        calls = self.state.calls
        announcing = self._announcing.ticket if self._announcing else None
        self._office.update(office.name if office else "Lobby")
        self._reconnecting.update(f"⟳ {label('reconnecting', lang)}")
        for key, title in self._titles.items():
            title.update(side_by_side(key, languages))
        for i, line in enumerate(self._lines):
            call = calls.now_serving[i] if i < len(calls.now_serving) else None
            line.set_class(call is not None and call.ticket == announcing, "-announcing")
            line.set_class(call is None, "-empty")
            line.badge = label("called_again", lang)
            line.call = call
            line.refresh()
        self._earlier.show(calls.earlier, announcing)
        self._services.show(list(self.state.services.values()), lang)
        self._notice.update(office.notice if office else "")
        self._notice.set_class(not (office and office.notice), "-blank")
        emergency = office.emergency if office else None
        if self.screen_stack:  # a timer may fire while the app shuts down
            self.screen.set_class(emergency is not None, "-emergency")
        self._emergency.show(emergency)

    def _tick(self) -> None:
        """The clock in office time, by the server's clock (a wall terminal's may be wrong)."""
        now = self._clock() + self._clock_offset
        office = self.state.office
        if office is not None:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                now = now.astimezone(ZoneInfo(office.timezone))
        self._clock_text.update(now.strftime("%H:%M"))

    def _problem(self, text: str) -> None:
        self._problem_text.update(text)
        self._problem_text.add_class("-on")


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
