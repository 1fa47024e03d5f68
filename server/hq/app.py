"""``lobby hq serve``: headquarters' aiohttp application.

Offices post their logs here (``/api/hq/offices/{office}/events``, each with its own token);
people read the overview (``/``, ``/api/hq/overview``) and the reports
(``/api/hq/reports?from=&to=``). Database work runs in worker threads on a small pool of
connections, so a long report never holds up an office's batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from aiohttp import web

from server.errors import api_error
from server.hq.database import Pool
from server.hq.ingest import Ingest, IngestRefused, decode_batch
from server.hq.overview import overview, overview_page
from server.hq.reports import hq_report, keep_summaries
from server.reports.figures import KEEP_BUDGET_SEC, period_of

log = logging.getLogger("lobby.headquarters")
POOL = web.AppKey("pool", Pool)
INGEST = web.AppKey("ingest", Ingest)
BODY_LIMIT = 16 * 1024 * 1024
"""A full batch of events with their data fits well inside."""
HOUSEKEEPING_SEC = 60.0
COOKIE = "lobby_hq"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refusal(refused: IngestRefused) -> web.HTTPException:
    body: dict[str, Any] = {"error": {"code": refused.code, "message": refused.message}}
    if refused.field is not None:
        body["error"]["field"] = refused.field
    if refused.expected is not None:
        body["expected_seq"] = refused.expected
    exc = web.HTTPException(
        text=msgspec.json.encode(body).decode(), content_type="application/json"
    )
    exc.set_status(refused.status)
    return exc


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal in the API's JSON error shape, unknown paths and oversized bodies too."""
    try:
        return await handler(request)
    except IngestRefused as refused:
        raise refusal(refused) from None
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status, "error"
        )
        raise api_error(exc.status, code, exc.reason) from None


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def viewer_only(handler: Handler) -> Handler:
    """The overview and the reports are for registered viewers (``lobby hq add-viewer``):
    a Bearer token, or ``?token=`` once in a browser, which then keeps it in a cookie."""

    async def checked(request: web.Request) -> web.StreamResponse:
        from_query = request.query.get("token")
        token = bearer(request) or from_query or request.cookies.get(COOKIE)
        viewer = None if not token else await asyncio.to_thread(request.app[POOL].viewer, token)
        if viewer is None:
            message = (
                "a headquarters viewer token is needed: open this page with ?token=... as"
                " `lobby hq add-viewer` printed it, or send it as a Bearer token"
            )
            raise api_error(401, "unauthorized", message)
        response = await handler(request)
        if from_query:
            response.set_cookie(
                COOKIE, from_query, httponly=True, samesite="Strict", secure=request.secure
            )
        return response

    return checked


async def position(request: web.Request) -> web.Response:
    ingest = request.app[INGEST]
    answer = await asyncio.to_thread(ingest.position, request.match_info["office"], bearer(request))
    return web.json_response(body=msgspec.json.encode(answer))


async def events(request: web.Request) -> web.Response:
    ingest = request.app[INGEST]
    office_id, token = request.match_info["office"], bearer(request)
    body = await request.read()
    batch = decode_batch(body)
    answer = await asyncio.to_thread(ingest.take, office_id, token, batch)
    return web.json_response(body=msgspec.json.encode(answer))


def _now() -> datetime:
    return datetime.now(UTC)


async def overview_json(request: web.Request) -> web.Response:
    offices = await asyncio.to_thread(request.app[POOL].offices)
    return web.json_response(overview(offices, _now()))


async def overview_html(request: web.Request) -> web.Response:
    offices = await asyncio.to_thread(request.app[POOL].offices)
    page = overview_page(overview(offices, _now()))
    return web.Response(
        text=page,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';"
            " base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def reports(request: web.Request) -> web.Response:
    pool = request.app[POOL]
    try:
        first, last = period_of(request.query.get("from"), request.query.get("to"), date.today())
    except ValueError as exc:
        raise api_error(400, "invalid", str(exc), "from") from None
    offices = await asyncio.to_thread(pool.offices)
    wanted = request.query.get("office")
    if wanted is not None:
        offices = [o for o in offices if o.id == wanted]
        if not offices:
            raise api_error(404, "unknown_office", f"no office {wanted!r} is registered here")
    figures = await asyncio.to_thread(
        hq_report, pool.url, pool.schema, offices, first, last, _now()
    )
    return web.json_response(figures)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def housekeeping(pool: Pool) -> None:
    """Summarise settled days ahead of the reports, a slice at a time."""
    while True:
        try:
            offices = await asyncio.to_thread(pool.offices)
            await asyncio.to_thread(
                keep_summaries, pool.url, pool.schema, offices, _now(), KEEP_BUDGET_SEC
            )
        except Exception:  # the next round tries again
            log.exception("headquarters housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING_SEC)


def create_hq_app(url: str) -> web.Application:
    """Headquarters on the PostgreSQL database ``url`` names (its schema is made or migrated
    at start; :class:`UnusableStore` when it cannot be used)."""
    app = web.Application(middlewares=[json_errors], client_max_size=BODY_LIMIT)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        pool = await asyncio.to_thread(Pool, url)
        app[POOL] = pool
        app[INGEST] = Ingest(pool)
        task = asyncio.create_task(housekeeping(pool))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        pool.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", viewer_only(overview_html))
    app.router.add_get("/api/hq/overview", viewer_only(overview_json))
    app.router.add_get("/api/hq/reports", viewer_only(reports))
    app.router.add_get("/api/hq/offices/{office}/position", position)
    app.router.add_post("/api/hq/offices/{office}/events", events)
    return app
