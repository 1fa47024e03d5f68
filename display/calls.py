"""Which calls the lobby sees, and which of them are new enough to announce.

Shared rules of the page and the terminal board (the page keeps the same rules in
``web/display.js``): a call is remembered by (time, number, counter, recall) and announced at
most once; the first snapshot after start is history, never announced; a call that reaches
the display more than ``FRESH_SEC`` after it was made (a long outage, a resync snapshot) is
shown but not announced, so a visitor is never sent to a counter that called long ago.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from lobby import protocol as p

FRESH_SEC = 90.0
SHOWN = 8
SEEN_LIMIT = 500

CallKey = tuple[str, str, str, int]


def call_key(call: p.CallView) -> CallKey:
    return (call.at, call.number, call.counter, call.recall)


def unique_by_number(calls: list[p.CallView]) -> list[p.CallView]:
    """Newest first, each ticket once: a recall brings its number back to the top."""
    seen: set[str] = set()
    out = []
    for call in calls:
        if call.number not in seen:
            seen.add(call.number)
            out.append(call)
    return out


class CallBoard:
    """The calls on show (newest first) and the memory of what was already announced."""

    def __init__(self, fresh_sec: float = FRESH_SEC) -> None:
        self.fresh = timedelta(seconds=fresh_sec)
        self.calls: list[p.CallView] = []
        self._seen: set[CallKey] = set()
        self._order: deque[CallKey] = deque()
        self._had_snapshot = False
        self._offset = timedelta(0)

    def snapshot(self, state: p.StateSnapshot, local_now: datetime) -> list[p.CallView]:
        """Take a full state; returns the calls to announce, oldest first."""
        try:
            self._offset = datetime.fromisoformat(state.now) - local_now
        except ValueError:
            self._offset = timedelta(0)
        new = []
        for call in state.recent_calls:
            if self._remember(call) and self._had_snapshot and self._is_fresh(call, local_now):
                new.append(call)
        self._had_snapshot = True
        self.calls = unique_by_number(list(state.recent_calls))[:SHOWN]
        return new[::-1]

    def event(self, event: p.StreamEvent, local_now: datetime) -> list[p.CallView]:
        call = event.call
        if call is None or not self._remember(call):
            return []
        self.calls = unique_by_number([call, *self.calls])[:SHOWN]
        return [call] if self._is_fresh(call, local_now) else []

    def _remember(self, call: p.CallView) -> bool:
        key = call_key(call)
        if key in self._seen:
            return False
        self._seen.add(key)
        self._order.append(key)
        while len(self._order) > SEEN_LIMIT:
            self._seen.discard(self._order.popleft())
        return True

    def _is_fresh(self, call: p.CallView, local_now: datetime) -> bool:
        try:
            made = datetime.fromisoformat(call.at)
        except ValueError:
            return False
        return (local_now + self._offset) - made < self.fresh
