"""Each service on the terminal board: people waiting and the estimated wait, or its hours.

The count is the server's ``ahead`` (everyone a visitor checking in now would wait behind, also
in services sharing its counters), the figure the kiosk and the estimate use."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from display.labels import label
from lobby import protocol as p

NARROW = 60
"""Below this width the wait loses its "Estimated wait" words: the minutes must stay visible."""


class ServiceList(Static):
    _services: list[p.ServiceView] = []
    _lang = "en"

    def show(self, services: list[p.ServiceView], lang: str) -> None:
        self._services, self._lang = services, lang
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        lang = self._lang
        narrow = self.size.width < NARROW
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(no_wrap=True, justify="right")
        table.add_column(no_wrap=True, justify="right")
        for service in self._services:
            name = Text(service.name, style="bold")
            if service.state == "closed":
                hours = service.hours.replace("-", "–")
                table.add_row(
                    name,
                    Text(label("closed", lang), style="bold #b8c2cc"),
                    Text(hours if narrow else f"{label('hours', lang)} {hours}"),
                )
                continue
            count = Text()
            count.append(str(service.ahead), style="bold #ffffff")
            count.append(f" {label('waiting', lang)}", style="#b8c2cc")
            if service.state == "closing":
                detail = Text(label("closing_soon", lang), style="bold #ff9f1c")
            elif service.estimate.high_min <= 0:
                detail = Text(label("no_wait", lang), style="bold")
            else:
                low, high = service.estimate.low_min, service.estimate.high_min
                detail = Text("" if narrow else f"{label('estimated_wait', lang)} ", "#b8c2cc")
                detail.append(f"{low}–{high} {label('minutes', lang)}", style="bold")
            table.add_row(name, count, detail)
        self.update(table)
