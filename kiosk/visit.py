"""One visitor's check-in as it is being composed: optional details and the request id.

Nothing here outlives the visit: the kiosk drops it when the ticket is issued or when the screen
goes idle, so a name typed by one visitor is never shown to the next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import get_args

from lobby import protocol as p

ADDRESS_FORMS: tuple[str, ...] = get_args(p.AddressAs)
"""mr, ms, mx, first_name, number ("no name": staff call the visitor by their number)."""
NEEDS: tuple[str, ...] = get_args(p.Need)
NAME_MAX = 80


def new_request_id() -> str:
    """A fresh ``client_request_id``: every retry of one check-in sends the same one."""
    return f"kiosk-{uuid.uuid4().hex}"


@dataclass
class VisitorDetails:
    """What the visitor chose to tell us. Every field is optional and private."""

    name: str = ""
    address_as: str | None = None
    language: str | None = None
    needs: list[str] = field(default_factory=list)

    @property
    def given_name(self) -> str | None:
        """The name to send, or None when there is none or the visitor asked for "no name"."""
        name = " ".join(self.name.split())[:NAME_MAX]
        if not name or self.address_as == "number":
            return None
        return name

    def is_empty(self) -> bool:
        return (
            self.given_name is None
            and self.address_as is None
            and self.language is None
            and not self.needs
        )

    def request(self, service: str, request_id: str, kiosk_language: str) -> p.CheckInRequest:
        name = self.given_name
        return p.CheckInRequest(
            service=service,
            client_request_id=request_id,
            name=name,
            address_as=self.address_as if name else None,  # type: ignore[arg-type]
            language=self.language,
            needs=[need for need in NEEDS if need in self.needs],  # type: ignore[misc]
            kiosk_language=kiosk_language,
        )


@dataclass(frozen=True)
class PendingCheckIn:
    """A check-in sent (or being retried) with one request id until the server answers."""

    request: p.CheckInRequest
    kiosk_language: str
    details: VisitorDetails
