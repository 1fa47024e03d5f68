"""The desk's actions: one table drives the footer keys, the buttons and what is enabled.

Keys are single letters because the desk has no text field; the forms opened from it take the
keyboard while they are open, so typing a note never triggers an action.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeskAction:
    key: str
    action: str
    label: str
    pair: str | None = None


DESK_ACTIONS: tuple[DeskAction, ...] = (
    DeskAction("c", "call_next", "Call next"),
    DeskAction("r", "recall", "Recall"),
    DeskAction("a", "start", "Arrived"),
    DeskAction("d", "complete", "Complete"),
    DeskAction("n", "no_show", "No-show"),
    DeskAction("t", "transfer", "Transfer"),
    DeskAction("m", "note", "Note"),
    DeskAction("w", "walk_in", "Walk-in"),
    DeskAction("f", "flag", "Flag"),
    DeskAction("b", "take_break", "Break", pair="resume"),
    DeskAction("b", "resume", "Resume", pair="take_break"),
    DeskAction("o", "open_counter", "Open", pair="close_counter"),
    DeskAction("o", "close_counter", "Close", pair="open_counter"),
)

ALERT_KEY = "ctrl+e"
CHECKLIST_KEY = "k"
