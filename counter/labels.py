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
    "es": "Spanish (Español)",
    "so": "Somali (Soomaali)",
    "vi": "Vietnamese (Tiếng Việt)",
    "ar": "Arabic (العربية)",
    "hmn": "Hmong (Hmoob)",
    "fr": "French (Français)",
    "zh": "Chinese (中文)",
}
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
NEAR_TARGET = 0.75


def language_name(code: str | None) -> str:
    if not code:
        return "not given"
    return LANGUAGE_NAMES.get(code, code)


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


def wait_colour(waited_min: float, target_min: float) -> str:
    """Within target green, near it yellow, past it red: the office's own standard."""
    if target_min <= 0 or waited_min >= target_min:
        return "red"
    if waited_min >= target_min * NEAR_TARGET:
        return "yellow"
    return "green"


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def clock_text(text: str | None) -> str:
    """The wall-clock time of an ISO timestamp as the server sent it (the office's time zone)."""
    moment = parse_time(text)
    return f"{moment:%H:%M}" if moment else "--:--"


def minutes_between(start: str | None, end: str | None) -> float | None:
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return None
    return max(0.0, (last - first).total_seconds() / 60)
