"""Words and colours the counter uses, kept in one place so every panel says the same thing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import get_args

from lobby import protocol as p
from lobby.i18n import Catalogues
from lobby.i18n import language_name as cldr_language_name

TEXTS = Catalogues.load(Path(__file__).parent / "i18n")
"""The counter's words, a gettext catalogue like every surface's (``counter/i18n/en.po``)."""
LANGUAGE = "en"


def _group(prefix: str, keys: tuple[str, ...]) -> dict[str, str]:
    return {key: TEXTS.text(LANGUAGE, f"{prefix}_{key}") for key in keys}


COUNTER_STATES = get_args(p.CounterState)
STATE_LABELS = _group("state", COUNTER_STATES)
STATE_HINTS = _group("hint", COUNTER_STATES)
TICKET_STATE_LABELS = _group("ticket", get_args(p.TicketState))
NEED_LABELS = _group("need", get_args(p.Need))
ADDRESS_CHOICES = tuple(
    (TEXTS.text(LANGUAGE, f"address_{form}"), form)
    for form in ("ms", "mr", "mx", "first_name", "number")
)
WAIT_COLOURS = {"ok": "green", "near": "yellow", "over": "red"}
"""The server's ``wait_level`` against the service's target, as the office's colours."""


def language_name(code: str | None) -> str:
    """``"Español (es)"``: the name the visitor recognises, and the code any clerk can read."""
    if not code:
        return "not given"
    name = cldr_language_name(code)
    return f"{name} ({code})" if name != code else code


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
