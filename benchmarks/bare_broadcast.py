"""Baseline for call-to-event: a tiny aiohttp server that sends one message to every socket.

Run as ``python -m benchmarks.bare_broadcast --port PORT``. ``GET /ws`` keeps a WebSocket open;
``POST /broadcast`` with a body sends that body as one text message to every connected socket,
one ``send_str`` after the other in the handler, then answers. No queues, no tasks, no
encoding: the least work any server must do to tell N displays about a call.
"""

from __future__ import annotations

import argparse

from aiohttp import WSCloseCode, web

SOCKETS = web.AppKey("sockets", set)


async def stream(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    sockets: set[web.WebSocketResponse] = request.app[SOCKETS]
    sockets.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        sockets.discard(ws)
    return ws


async def broadcast(request: web.Request) -> web.Response:
    message = (await request.read()).decode()
    sent = 0
    for ws in list(request.app[SOCKETS]):
        try:
            await ws.send_str(message)
            sent += 1
        except (ConnectionError, RuntimeError):
            pass
    return web.json_response({"sent": sent})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_app() -> web.Application:
    app = web.Application()
    app[SOCKETS] = set()

    async def close_all(app: web.Application) -> None:
        for ws in list(app[SOCKETS]):
            await ws.close(code=WSCloseCode.GOING_AWAY)

    app.on_shutdown.append(close_all)
    app.router.add_get("/ws", stream)
    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(create_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
