"""Baseline for durable check-ins: a bare aiohttp handler doing one durable SQLite insert.

Run as ``python -m benchmarks.bare_insert --db PATH --port PORT``. Same SQLite settings as the
Lobby store (WAL, ``synchronous=FULL``, one connection), one INSERT committed per request, and the
commit blocks the event loop: the simplest correct handler, without group commit. It parses the
JSON body and answers 201 with a small JSON body, so it measures HTTP + one fsync per request.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from datetime import UTC, datetime

from aiohttp import web

DB = web.AppKey("db", sqlite3.Connection)


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, request_id TEXT UNIQUE,"
        " service TEXT NOT NULL, at TEXT NOT NULL)"
    )
    return conn


async def check_in(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    conn = request.app[DB]
    at = datetime.now(UTC).isoformat()
    cursor = conn.execute(
        "INSERT INTO tickets (request_id, service, at) VALUES (?, ?, ?)",
        (body["client_request_id"], body["service"], at),
    )
    return web.json_response({"id": cursor.lastrowid, "service": body["service"]}, status=201)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_app(db_path: str) -> web.Application:
    app = web.Application()
    conn = connect(db_path)
    app[DB] = conn

    async def close(app: web.Application) -> None:
        conn.close()

    app.on_cleanup.append(close)
    app.router.add_post("/api/tickets", check_in)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(create_app(args.db), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
