"""What the kiosk needs from the server, behind one small interface.

``ServerBackend`` is the real one (HTTP commands through ``LobbyClient``, the office state
through ``live()``). The interface exists so screenshots and snapshot tests can run the same app
on a fixed, made-up office (``kiosk.sample_office``) and get identical screens every time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Protocol

from lobby import protocol as p
from lobby.client import LobbyClient, StreamMessage, live


class KioskBackend(Protocol):
    def follow(self, on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
        """Yield the kiosk's live stream for ever: a snapshot first, then patches (events
        and the server's ticks), to fold with ``lobby.state.OfficeState``."""
        ...

    async def check_in(self, request: p.CheckInRequest) -> p.TicketView: ...

    async def acknowledged(self, ticket_id: int, via: str, at: datetime) -> None: ...

    async def printer_status(self, status: str, detail: str) -> None: ...

    async def emergency_ack(self, emergency_id: int) -> None:
        """Tell the server this kiosk shows emergency ``emergency_id``."""
        ...

    async def close(self) -> None: ...


class ServerBackend:
    """The kiosk's link to a Lobby server with its device token. Create inside the event loop."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 5.0,
        reconnect_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0),
    ) -> None:
        self.url = url
        self.token = token
        self.reconnect_delays = reconnect_delays
        self.client = LobbyClient(url, token, timeout=timeout)

    def follow(self, on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
        return live(
            self.url,
            self.token,
            on_connection=on_connection,
            reconnect_delays=self.reconnect_delays,
        )

    async def check_in(self, request: p.CheckInRequest) -> p.TicketView:
        return await self.client.check_in(request)

    async def acknowledged(self, ticket_id: int, via: str, at: datetime) -> None:
        await self.client.acknowledged(ticket_id, via, at)

    async def printer_status(self, status: str, detail: str) -> None:
        await self.client.printer_status(status, detail[:300])

    async def emergency_ack(self, emergency_id: int) -> None:
        await self.client.emergency_ack(emergency_id)

    async def close(self) -> None:
        await self.client.close()
