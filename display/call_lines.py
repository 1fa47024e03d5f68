"""The calls on the terminal board: the newest in block letters, the earlier ones as a list."""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from display import big_text
from lobby import protocol as p

WHITE = Style(color="#ffffff", bold=True)
YELLOW = Style(color="#ffd60a", bold=True)
DIM = Style(color="#b8c2cc", bold=True)
INK = Style(color="#000000", bold=True)
MARKED = Style(color="#000000", bgcolor="#ffd60a", bold=True)


class CallLine(Widget):
    """One "P-014 → Window 3" line. Its height is fixed by the stylesheet, never by the call,
    so nothing on the board moves when calls arrive."""

    call: reactive[p.CallView | None] = reactive(None)
    badge: reactive[str] = reactive("")

    def render(self) -> RenderableType:
        call = self.call
        if call is None:
            return Text("")
        announcing = self.has_class("-announcing")
        number_style = INK if announcing else YELLOW if call.recall else WHITE
        arrow_style = INK if announcing else YELLOW
        text_style = INK if announcing else WHITE
        height = self.size.height
        room = self.size.width - 2
        badge = f"  ↻ {self.badge}" if call.recall and self.badge else ""
        for size in ("full", "half"):
            if height < big_text.HEIGHT[size]:
                continue
            counter = call.counter_name.upper()
            parts = [(call.number, number_style), ("→", arrow_style)]
            whole = big_text.width(f"{call.number}→{counter}", size) + 4
            if big_text.drawable(counter) and whole + len(badge) <= room:
                lines = big_text.styled([*parts, (counter, text_style)], size)
                return self._with_badge(lines, badge, arrow_style)
            if big_text.width(call.number, size) + len(call.counter_name) + 10 <= room:
                lines = big_text.styled(parts, size)
                middle = len(lines) // 2
                lines[middle].append("  " + call.counter_name, text_style)
                return self._with_badge(lines, badge, arrow_style)
        line = Text()
        line.append(call.number, number_style)
        line.append(" → ", arrow_style)
        line.append(call.counter_name, text_style)
        line.append(badge, arrow_style)
        return line

    @staticmethod
    def _with_badge(lines: list[Text], badge: str, style: Style) -> Text:
        if badge:
            lines[len(lines) // 2].append(badge, style)
        return Text("\n").join(lines)

    def on_resize(self) -> None:
        self.refresh()


class EarlierCalls(Static):
    """Recent calls no longer being served at their counter: a visitor who missed one still
    sees it."""

    def show(self, calls: list[p.CallView], announcing: int | None) -> None:
        """``announcing``: the ticket being announced, marked here too when its visit has
        already ended (a no-show called again, a quick transfer)."""
        text = Text()
        for i, call in enumerate(calls):
            if i:
                text.append("\n")
            mark = call.ticket == announcing
            text.append(f"{call.number:<8}", MARKED if mark else YELLOW if call.recall else DIM)
            text.append("→ ", MARKED if mark else YELLOW)
            text.append(call.counter_name, MARKED if mark else DIM)
            if call.recall:
                text.append("  ↻", MARKED if mark else YELLOW)
        self.update(text)
