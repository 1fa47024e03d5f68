"""A row of big toggle buttons: one choice (form of address, language) or several (needs).

Radio buttons and checkboxes are one text line tall, too small for a finger or a shaky hand; these
are full buttons, and the chosen ones carry a tick as well as a colour, so the choice does not
depend on telling colours apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.message import Message
from textual.widgets import Button

TICK = "✓ "


class ChoiceRow(HorizontalGroup):
    """``options`` are (value, label) pairs; ``selected`` holds the chosen values."""

    @dataclass
    class Changed(Message):
        row: ChoiceRow
        selected: tuple[str, ...]

        @property
        def control(self) -> ChoiceRow:
            return self.row

    def __init__(
        self,
        options: list[tuple[str, str]],
        *,
        multiple: bool = False,
        selected: tuple[str, ...] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="choice-row")
        self.options = options
        self.multiple = multiple
        self.selected: tuple[str, ...] = tuple(v for v, _ in options if v in selected)

    def compose(self) -> ComposeResult:
        for value, label in self.options:
            yield Button(self._label(value, label), id=f"{self.id}-{value}", classes="choice")

    def on_mount(self) -> None:
        self._paint()

    def _label(self, value: str, label: str) -> str:
        return f"{TICK}{label}" if value in self.selected else label

    def _paint(self) -> None:
        for value, label in self.options:
            button = self.query_one(f"#{self.id}-{value}", Button)
            button.label = self._label(value, label)
            button.set_class(value in self.selected, "-chosen")

    def select(self, selected: tuple[str, ...]) -> None:
        self.selected = tuple(v for v, _ in self.options if v in selected)
        self._paint()

    @on(Button.Pressed, ".choice")
    def _toggle(self, event: Button.Pressed) -> None:
        event.stop()
        assert event.button.id is not None
        value = event.button.id.removeprefix(f"{self.id}-")
        if value in self.selected:
            chosen = tuple(v for v in self.selected if v != value)
        elif self.multiple:
            chosen = (*self.selected, value)
        else:
            chosen = (value,)
        self.select(chosen)
        self.post_message(self.Changed(self, self.selected))
