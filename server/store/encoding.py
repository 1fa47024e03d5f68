"""Events as the log stores them: a time with its offset, a kind, and the data as compact JSON.

Every store writes this one encoding, so a log copied from one database to another replays the
same, and the engine tests can check that every event kind survives the trip unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from server.engine import Event

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def encode_event(event: Event) -> tuple[str, str, str]:
    """msgspec rather than the json module: every check-in pays for this on the event loop, and
    a restart decodes every event of the log."""
    return (event.at.isoformat(), event.kind, _encoder.encode(event.data).decode())


def event_row(seq: int, event: Event) -> tuple[int, str, str, str, int]:
    """One event as the log's ``events`` table holds it: seq, at, kind, data, at_us."""
    return (seq, *encode_event(event), epoch_us(event.at))


def decode_event(at: str, kind: str, data: str) -> Event:
    return Event(kind, datetime.fromisoformat(at), _decoder.decode(data))


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970 UTC: a time that sorts as an instant, whatever its offset.

    Stored times keep the office's offset, so as text they sort wrongly across a daylight-saving
    change; period queries compare this number instead. Integer arithmetic keeps it exact.
    """
    return (moment - _EPOCH) // _MICROSECOND
