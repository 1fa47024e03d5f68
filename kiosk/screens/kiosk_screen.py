"""What every kiosk screen shares: the typed app, the "Back" button, optional text lines, and
rows of buttons rebuilt from server answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from textual import on
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from kiosk.app import KioskApp


class KioskScreen(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self._rebuilding = asyncio.Lock()

    @property
    def kiosk(self) -> KioskApp:
        return cast("KioskApp", self.app)

    def show_text(self, selector: str, text: str) -> None:
        """Fill a line, or take it out of the layout while it has nothing to say."""
        widget = self.query_one(selector, Static)
        widget.update(text)
        widget.display = bool(text)

    def rebuild_buttons(
        self,
        container: Widget,
        wanted: Callable[[], Sequence[str | None]],
        build: Callable[[Sequence[str | None]], list[Widget]],
        then: Callable[[], None] = lambda: None,
    ) -> None:
        """Make ``container`` hold one button per name in ``wanted()`` (None: a button with no
        name), built by ``build``.

        Server answers arrive in any order and each asks for a rebuild. Rebuilds run one at a
        time, each awaits the removal of the old buttons before mounting the new ones (which
        reuse their ids), and each reads ``wanted()`` when its turn comes: whatever the order
        of the answers, the row ends up as the last one asked for. ``then`` runs after every
        turn, rebuilt or not (to paint the buttons, to give the focus back).
        """

        async def rebuild() -> None:
            async with self._rebuilding:
                if not container.is_attached:
                    return
                names = list(wanted())
                shown = [b.name for b in container.query_children(Button)]
                if shown != names:
                    await container.remove_children()
                    await container.mount_all(build(names))
                then()

        self.run_worker(rebuild(), group=f"rebuild-{container.id}", exit_on_error=False)

    def focus_first(self, selector: str) -> None:
        """Give the focus back to the first of ``selector`` when a rebuild took it away: a
        keyboard-only kiosk (Enter) must always have something to press."""
        if self.focused is None or not self.focused.is_attached:
            first = self.query(selector).first(Button) if self.query(selector) else None
            if first is not None:
                first.focus()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.go_back()

    def go_back(self) -> None:
        """Where "Back" leads: the screen underneath, unless a screen says otherwise."""
        self.app.pop_screen()
