"""The Lobby server for the soak benchmark: the real application on a virtual clock.

``python -m benchmarks.soak_server --config F --db F --port N --start ISO --epoch T --speed S``
runs ``create_app`` exactly as ``lobby serve`` does, except that office time is
``start + (time.time() - epoch) * speed``: the load generator computes the same clock, so a
visitor it checks in at 12:03 office time arrives at 12:03 on the server too, and a working day
passes in minutes. One extra route, ``GET /soak/tasks``, says how many asyncio tasks the server
has, so the benchmark can watch them the way it watches memory and descriptors.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta

from aiohttp import web

from server.app import HEADER_TIMEOUT_SEC, create_app, raise_open_files_limit
from server.config import load_config
from server.logs import configure


def virtual_clock(start: datetime, epoch: float, speed: float) -> datetime:
    return start + timedelta(seconds=(time.time() - epoch) * speed)


async def tasks(request: web.Request) -> web.Response:
    return web.json_response({"tasks": len(asyncio.all_tasks())})


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--config", "--db", "--start"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--epoch", type=float, required=True)
    parser.add_argument("--speed", type=float, required=True)
    args = parser.parse_args()
    config = load_config(args.config)
    start = datetime.fromisoformat(args.start)
    configure("text")
    raise_open_files_limit()
    app = create_app(config, args.db, clock=lambda: virtual_clock(start, args.epoch, args.speed))
    app.router.add_get("/soak/tasks", tasks)
    web.run_app(
        app, host="127.0.0.1", port=args.port, print=None, keepalive_timeout=HEADER_TIMEOUT_SEC
    )


if __name__ == "__main__":
    main()
