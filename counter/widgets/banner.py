"""A one-line banner across the desk that is there only while its condition holds."""

from __future__ import annotations

from textual.widgets import Static


class Banner(Static):
    def show(self, message: str | None) -> None:
        self.display = message is not None
        if message is not None:
            self.update(message)
