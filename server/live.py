"""``GET /ws``: the authenticated live stream (see :mod:`server.stream`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from server.auth import require
from server.errors import api_error
from server.keys import OFFICE
from server.stream import Client, audience_of

HEARTBEAT_SEC = 20.0


def origin_allowed(request: web.Request) -> bool:
    """Browsers send Origin; only pages served by us (or the configured public URL) may connect."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: the token is the whole check
    host = urlsplit(origin).netloc
    public = urlsplit(request.app[OFFICE].config.public_url).netloc
    return host in (request.host, public)


async def stream(request: web.Request) -> web.WebSocketResponse:
    principal = require(request, "kiosk", "display", "clerk", "supervisor", "admin")
    if not origin_allowed(request):
        raise api_error(403, "forbidden", "WebSocket from a foreign origin")
    office = request.app[OFFICE]
    audience = audience_of(principal.role)
    since_raw = request.query.get("since")
    first: list[str] | None = None
    after = office.store.last_seq
    if since_raw is not None and since_raw.isdigit():
        first = office.hub.missed_since(int(since_raw), audience)
        after = office.hub.last_seq
    if first is None:
        after, snapshot = office.snapshot_message(principal.role)
        first = [snapshot]
    # No per-message compression: messages are small, and deflating each one once per client
    # would cost more CPU than the lobby's network saves.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SEC, compress=False)
    await ws.prepare(request)
    await office.hub.serve(Client(ws, audience, after, request.transport), first)
    return ws
