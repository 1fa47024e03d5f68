"""Baseline for replication: an aiohttp server that answers an office's shipper as
headquarters does (position, events) but only inserts each batch's rows into one table, with no
token, no checks, no copy per office and no folding: the least any ingest costs."""

from __future__ import annotations

import argparse
import asyncio

import msgspec
import psycopg
from aiohttp import web

from server.hq.wire import Batch, Received

SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_events (office TEXT NOT NULL, seq BIGINT NOT NULL,
    at TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (office, seq));
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    conn = psycopg.connect(args.db, autocommit=True)
    conn.execute(SCHEMA)
    lock = asyncio.Lock()

    def held(office: str) -> int:
        found = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM bare_events WHERE office = %s", (office,)
        ).fetchone()
        return int(found[0]) if found else 0

    async def position(request: web.Request) -> web.Response:
        return web.json_response(
            body=msgspec.json.encode(Received(held(request.match_info["office"])))
        )

    async def events(request: web.Request) -> web.Response:
        office = request.match_info["office"]
        batch = msgspec.json.decode(await request.read(), type=Batch)
        rows = [
            (office, e.seq, e.at, e.kind, msgspec.json.encode(e.data).decode())
            for e in batch.events
        ]
        async with lock:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bare_events VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    rows,
                )
        return web.json_response(body=msgspec.json.encode(Received(held(office), len(rows))))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/hq/offices/{office}/position", position)
    app.router.add_post("/api/hq/offices/{office}/events", events)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
