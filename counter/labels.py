"""Words and colours the counter uses, kept in one place so every panel says the same thing."""

from __future__ import annotations

from datetime import datetime

STATE_LABELS = {
    "closed": "Closed",
    "open": "Open",
    "calling": "Calling",
    "serving": "Serving",
    "break": "On break",
}
STATE_HINTS = {
    "closed": "press o to open",
    "open": "ready for the next visitor",
    "calling": "waiting for the visitor to arrive",
    "serving": "with a visitor",
    "break": "press b to resume",
}
TICKET_STATE_LABELS = {
    "waiting": "Waiting",
    "called": "Called",
    "serving": "At the counter",
    "done": "Done",
    "no_show": "No-show",
    "walkaway": "Left",
    "closed_at_end_of_day": "Closed at end of day",
}
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "so": "Soomaali",
    "vi": "Tiếng Việt",
    "ar": "العربية",
    "hmn": "Hmoob",
    "fr": "Français",
    "zh": "中文",
}
"""Each language by its own name, as the visitor chose it at the kiosk."""
NEED_LABELS = {
    "wheelchair": "Uses a wheelchair",
    "seated": "Needs to be seated",
    "hearing": "Hearing: face them, speak clearly",
    "vision": "Vision: read documents aloud",
    "interpreter": "Needs an interpreter",
    "assistance": "Needs assistance",
}
ADDRESS_CHOICES = (
    ("Ms.", "ms"),
    ("Mr.", "mr"),
    ("Mx.", "mx"),
    ("First name", "first_name"),
    ("Ticket number only", "number"),
)
WAIT_COLOURS = {"ok": "green", "near": "yellow", "over": "red"}
"""The server's ``wait_level`` against the service's target, as the office's colours."""


def language_name(code: str | None) -> str:
    """``"Español (es)"``: the name the visitor recognises, and the code any clerk can read."""
    if not code:
        return "not given"
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def need_label(need: str) -> str:
    return NEED_LABELS.get(need, need.replace("_", " ").capitalize())


def minutes_text(minutes: float) -> str:
    """``"under a minute"``, ``"6 min"``, ``"1 h 05 min"``."""
    whole = int(minutes)
    if whole < 1:
        return "under a minute"
    if whole < 60:
        return f"{whole} min"
    return f"{whole // 60} h {whole % 60:02d} min"


def clock_text(text: str | None) -> str:
    """The wall-clock time of an ISO timestamp as the server sent it (the office's time zone)."""
    try:
        return f"{datetime.fromisoformat(text or ''):%H:%M}"
    except ValueError:
        return "--:--"
