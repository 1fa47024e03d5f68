"""Emergency mode on the terminal screens: the panel they show, and their acknowledgement.

While the office's state carries ``office.emergency`` (:class:`lobby.protocol.EmergencyView`)
the kiosk, the counter terminal and the terminal board show :class:`EmergencyPanel` in place of
their normal content. Everything on it is the server's: the heading ("EMERGENCY", "DRILL") and
the instruction in every office language. The panel only lays it out: every language at once
when they fit the terminal, else one language at a time, each for :data:`CYCLE_SEC`.

Once the panel has drawn an emergency it posts :class:`EmergencyPanel.Shown`; the app then
tells the server so (:func:`acknowledge`), once per emergency id, retrying with backoff while
the server cannot be reached: the supervisor's list of screens that did not acknowledge is only
as good as these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rich.console import Group, RenderableType
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from lobby import protocol as p
from lobby.client import ApiError, ServerUnreachable

CYCLE_SEC = 5.0
ACK_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def headings(emergency: p.EmergencyView) -> str:
    """The distinct headings in the office's order: "EMERGENCY · EMERGENCIA · ..."."""
    return " · ".join(dict.fromkeys(emergency.heading.values()))


def languages_in_order(emergency: p.EmergencyView, first: str | None = None) -> list[str]:
    """The instruction's languages in the office's order, ``first`` (a visitor's) ahead."""
    codes = list(emergency.instruction)
    if first in codes:
        codes.remove(first)
        codes.insert(0, first)
    return codes


class EmergencyPanel(Static):
    """The emergency, as large as a terminal allows. ``first``: the language to put first."""

    DEFAULT_CSS = """
    EmergencyPanel {
        width: 1fr;
        height: 1fr;
        padding: 1 2;
        background: #a4000f;
        color: #ffffff;
        text-style: bold;
        content-align: center middle;
    }
    EmergencyPanel.-drill {
        background: #ffd60a;
        color: #000000;
    }
    """

    class Shown(Message):
        """The panel has drawn emergency ``emergency`` (posted once per id): time to say so."""

        def __init__(self, emergency: int) -> None:
            super().__init__()
            self.emergency = emergency

    def __init__(
        self,
        emergency: p.EmergencyView | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", id=id, classes=classes)
        self.emergency = emergency
        self.first: str | None = None
        self.index = 0
        self.cycling = False
        """Not every language fits: one is shown at a time."""
        self._told: int | None = None
        self._ready = False

    def on_mount(self) -> None:
        self._ready = True
        self.set_interval(CYCLE_SEC, self._next_language)
        self.show(self.emergency, self.first)

    def show(self, emergency: p.EmergencyView | None, first: str | None = None) -> None:
        if emergency is not None and (self.emergency is None or self.emergency.id != emergency.id):
            self.index = 0
        self.emergency, self.first = emergency, first
        self.set_class(emergency is not None and emergency.drill, "-drill")
        if not self._ready:
            return  # on_mount draws it
        self._draw()
        if emergency is not None and emergency.id != self._told:
            self._told = emergency.id
            # made in the panel's own turn: a message's sender is whoever runs the code, and a
            # Shown sent "from" the app (a stream worker drew it) would never reach the app
            shown = emergency.id
            self.call_later(lambda: self.post_message(self.Shown(shown)))

    def on_resize(self) -> None:
        self._draw()

    def _next_language(self) -> None:
        if self.cycling and self.emergency is not None:
            self.index += 1
            self._draw()

    @property
    def shown_languages(self) -> list[str]:
        """The languages whose instruction is on screen now."""
        if self.emergency is None:
            return []
        codes = languages_in_order(self.emergency, self.first)
        return [codes[self.index % len(codes)]] if self.cycling else codes

    def _draw(self) -> None:
        emergency = self.emergency
        if emergency is None:
            self.update("")
            return
        codes = languages_in_order(emergency, self.first)
        everything = self._all(emergency, codes)
        width = max(10, self.content_region.width or self.size.width or 76)
        height = self.content_region.height or self.size.height
        self.cycling = bool(height) and len(codes) > 1 and self._lines(everything, width) > height
        if self.cycling:
            lang = codes[self.index % len(codes)]
            self.update(self._one(emergency, lang, f"{self.index % len(codes) + 1}/{len(codes)}"))
        else:
            self.update(everything)

    def _lines(self, renderable: Group, width: int) -> int:
        console = self.app.console
        options = console.options.update_width(width)
        return len(console.render_lines(renderable, options, pad=False))

    @staticmethod
    def _all(emergency: p.EmergencyView, codes: list[str]) -> Group:
        parts: list[RenderableType] = [
            Text(f" {headings(emergency)} ", justify="center", style="reverse"),
            Text(""),
        ]
        for i, lang in enumerate(codes):
            if i:
                parts.append(Text(""))
            parts.append(Text(emergency.instruction[lang], justify="center"))
        return Group(*parts)

    @staticmethod
    def _one(emergency: p.EmergencyView, lang: str, counter: str) -> Group:
        return Group(
            Text(
                f" {emergency.heading.get(lang, headings(emergency))} ",
                justify="center",
                style="reverse",
            ),
            Text(""),
            Text(emergency.instruction[lang], justify="center"),
            Text(""),
            Text(counter, justify="center", style="not bold"),
        )


def showing(office: p.OfficeView | None, emergency_id: int) -> bool:
    """Whether the office's state is still in emergency ``emergency_id`` (worth acknowledging)."""
    return (
        office is not None
        and office.emergency is not None
        and (office.emergency.id == emergency_id)
    )


async def acknowledge(
    send: Callable[[], Awaitable[object]],
    still_current: Callable[[], bool],
    delays: tuple[float, ...] = ACK_DELAYS,
) -> bool:
    """Send a screen's acknowledgement until the server answers it; True once it did.

    A refusal (a 4xx: the emergency is no longer the current one, say) ends it: asking again
    would be refused again. Stops as well once ``still_current()`` is False.
    """
    attempt = 0
    while still_current():
        try:
            await send()
            return True
        except ServerUnreachable:
            pass
        except ApiError as error:
            if error.status < 500:
                return False
        await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
        attempt += 1
    return False


class Acknowledgements:
    """Which emergencies this screen has acknowledged (or is acknowledging): each id once."""

    def __init__(self) -> None:
        self.sent: set[int] = set()
        self.answered: list[int] = []
        """The ids the server took, in order: for the app's tests and logs."""

    def due(self, emergency_id: int) -> bool:
        """Whether to acknowledge ``emergency_id`` now (not done already); marks it as taken."""
        if emergency_id in self.sent:
            return False
        self.sent.add(emergency_id)
        return True
