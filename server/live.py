"""``GET /ws``: the authenticated live stream (see :mod:`server.stream`).

Every connection starts with a snapshot; ``?since=SEQ`` (the last seq a reconnecting client
saw) only decides which missed calls that snapshot still announces.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from server.auth import require
from server.errors import api_error
from server.keys import OFFICE
from server.publisher import audience_of
from server.stream import Client

HEARTBEAT_SEC = 20.0
MAX_CLIENT_MESSAGE = 4096
"""The stream reads nothing from clients but pings and a close: a larger message ends it."""


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
    since_raw = request.query.get("since", "")
    since = int(since_raw) if since_raw.isascii() and since_raw.isdigit() else None
    # No per-message compression: messages are small, and deflating each one once per client
    # would cost more CPU than the lobby's network saves.
    ws = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SEC, compress=False, max_msg_size=MAX_CLIENT_MESSAGE
    )
    await ws.prepare(request)
    # The snapshot is taken with no await before the client joins the hub: no patch can fall
    # between the two.
    after, snapshot = office.snapshot_message(principal.role, since)
    client = Client(ws, audience_of(principal.role), after, request.transport, who=principal)
    await office.hub.serve(client, [snapshot])
    return ws
