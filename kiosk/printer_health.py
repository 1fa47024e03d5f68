"""What the kiosk tells supervisors about its printer, and when.

The server logs every report, so the kiosk sends one only when the picture changes. A status
poll that gets no answer ("unknown") never hides what a failed print or an earlier answer
showed: a printer that jammed and then went silent is still a printer that jammed.
"""

from __future__ import annotations

from dataclasses import dataclass

DETAIL_MAX = 300
Report = tuple[str, str]


@dataclass
class PrinterHealth:
    status: str = "unknown"
    detail: str = ""
    reported: Report | None = None

    def polled(self, status: str, detail: str = "") -> None:
        if status == "unknown" and self.status != "unknown":
            return
        self.status, self.detail = status, detail[:DETAIL_MAX]

    def printed(self) -> None:
        """A ticket came out: the printer is online and has paper, whatever it said before."""
        if self.status not in ("ok", "paper_near_end"):
            self.status, self.detail = "ok", ""

    def failed(self, detail: str, cause: str = "error") -> None:
        """A ticket did not print; ``cause`` is what the printer said ("paper_out"...)."""
        self.status, self.detail = cause, detail[:DETAIL_MAX]

    @property
    def ok(self) -> bool:
        """Nothing to recheck soon: printing works (even with the paper running low)."""
        return self.status in ("ok", "paper_near_end")

    def due(self) -> Report | None:
        """The report to send now, or None when the server already knows."""
        current = (self.status, self.detail)
        return None if current == self.reported else current

    def sent(self, report: Report) -> None:
        self.reported = report
