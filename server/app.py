"""The application factory: ``create_app(config, db_path)`` returns a ready aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from server import pages
from server.auth import (
    COOKIE,
    PRINCIPAL,
    Attempts,
    CheckInLimit,
    Principal,
    SessionPolicy,
    SignInLimits,
    hash_token,
    new_token,
    token_from,
)
from server.config import OfficeConfig
from server.control import (
    CONTROL_ROLE,
    Control,
    control_path,
    operator,
    remove_control,
    write_control,
)
from server.doctor import add_doctor
from server.errors import api_error
from server.hq.shipping import ShippingGauges, shipper_for
from server.keys import (
    CHECK_IN_LIMIT,
    CONTROL,
    OFFICE,
    PRINCIPALS,
    SESSIONS,
    SIGN_IN_LIMITS,
    SPEECH,
)
from server.live import stream
from server.logs import request_lines
from server.metrics import METRICS, add_metrics
from server.office import TICK_SEC, Office
from server.openapi import build_openapi
from server.proxy import real_client
from server.reports.records import Layout, counter_layout
from server.speech import Speech
from server.store.port import StorageFailed, Store
from server.store.postgres import PostgresStore, is_postgres, where
from server.store.sqlite import SqliteStore
from server.store.sqlite_copy import serving
from server.views import ROUTES, end_sessions

log = logging.getLogger("lobby.server")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HOUSEKEEPING_SEC = 30.0
PRINCIPAL_CACHE_SEC = 30.0
STORAGE_PROBE_SEC = 1.0
"""How often a server whose storage refused a commit checks whether it takes writes again."""
SHUTDOWN_DRAIN_SEC = 30.0
"""At a stop, how long to wait for commits already handed to the store (a housekeeping purge
of a year of private data, say) before saving the snapshot the next start loads."""
HEADER_TIMEOUT_SEC = 20.0
"""A connection must send a whole request's headers within this long of opening (or of its
last answer), or it is closed: a slow-header client (slowloris) cannot hold sockets open. It
outlasts the 15 s for which HTTP clients keep an idle connection, so they close theirs first.
aiohttp's keep-alive timeout does exactly this (it runs from the connection's start too): the
server is run with ``keepalive_timeout=HEADER_TIMEOUT_SEC``."""
OPEN_FILES_WANTED = 65_536
"""Descriptors the server asks for: one per display, kiosk and terminal stream, plus files."""
HTML_HEADERS = {
    # The pages that set no policy of their own (the link index, the display's sign-in page)
    # load nothing: no script at all, their own inline style only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none';"
        " frame-ancestors 'none'"
    ),
}
EVERY_RESPONSE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def raise_open_files_limit(wanted: int = OPEN_FILES_WANTED) -> int:
    """Raise this process's soft limit on open files toward the hard one (a default of 1,024
    would refuse the thousand-and-first display); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer says nosniff and no-referrer; every HTML page has a Content-Security-Policy
    (its own, or the strict one above). Refusals get them too."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _add_headers(exc)
        raise
    if not response.prepared:  # a WebSocket or a stream has sent its headers already
        _add_headers(response)
    return response


def _add_headers(response: web.StreamResponse) -> None:
    headers = response.headers
    for name, value in EVERY_RESPONSE_HEADERS.items():
        headers.setdefault(name, value)
    if response.content_type == "text/html":
        for name, value in HTML_HEADERS.items():
            headers.setdefault(name, value)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the caller (if any) to the request; roles are checked by each handler."""
    token, source = token_from(request)
    stale_cookie = False
    if token:
        principal, ended = await _principal(request.app, token)
        is_api = request.path.startswith(("/api/", "/ws"))
        if principal is None and source == "cookie":
            stale_cookie = True  # an old session: carry on signed out and forget it
        elif principal is None and is_api:
            raise api_error(401, "unauthorized", ended or "token not recognised; sign in again")
        # a page opened with a wrong ?token= renders its own "how to sign in" text
        if principal is not None:
            request[PRINCIPAL] = principal
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if stale_cookie:
            exc.del_cookie(COOKIE)
        raise
    if token and source == "query" and request.get(PRINCIPAL) is not None:
        # Secure when the browser came over https, directly or by the office's public address
        secure = request.secure or request.app[OFFICE].config.public_url.startswith("https://")
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure)
    if stale_cookie:
        response.del_cookie(COOKIE)
    return response


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths and methods answer in the same JSON error shape as the API, and so does a
    command whose commit the disk refused (503 ``storage_full`` or ``storage_error``)."""
    try:
        return await handler(request)
    except StorageFailed as failure:
        raise api_error(503, failure.code, failure.message) from None
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "error")
        raise api_error(exc.status, code, exc.reason) from None


async def _principal(app: web.Application, token: str) -> tuple[Principal | None, str | None]:
    """Who owns ``token`` (or None, and why when a session ended); remembered briefly so a busy
    kiosk is not a database read each time.

    Entries expire: a device re-added with ``lobby device add`` gets a new token, and the old
    one must stop working without a server restart.
    """
    digest = hash_token(token)
    if app[CONTROL] and digest == app[CONTROL]:
        return Principal(operator(), CONTROL_ROLE, "control", 0), None
    cache = app[PRINCIPALS]
    now = time.monotonic()
    cached = cache.get(digest)
    if cached is None or cached[1] <= now:
        account = await app[OFFICE].store.account_for_token(digest)
        if account is None:
            cache.pop(digest, None)
            return None, None
        principal = Principal(account.name, account.role, account.kind, account.id)
        started = account.signed_in_at.timestamp() if account.signed_in_at else 0.0
        cached = cache[digest] = (principal, now + PRINCIPAL_CACHE_SEC, started)
    principal, _, started = cached
    if principal.kind == "staff":
        ended = app[SESSIONS].ended(digest, started)
        if ended is not None:
            await end_sessions(app, [digest])
            return None, ended
    return principal, None


async def ticking(office: Office) -> None:
    """Push what the clock alone moves (waits, idle time, estimates, services closing)."""
    while True:
        await asyncio.sleep(office.tick_sec)
        try:
            office.tick()
        except Exception:  # a failed tick must not stop the next one
            log.exception("tick failed")


async def housekeeping(office: Office) -> None:
    """Run the office's periodic duties for as long as the server runs."""
    while True:
        try:
            await office.housekeep()
        except Exception:  # keep the office running; the next round tries again
            log.exception("housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING_SEC)


def store_for(
    db: str | Path,
    layout: Layout | None = None,
    *,
    office: str | None = None,
    create: bool = True,
    init: bool = False,
) -> Store:
    """The store ``--db`` names: a ``postgresql://`` URL is the PostgreSQL store, anything else
    an SQLite file."""
    if is_postgres(db):
        return PostgresStore(str(db), layout, office=office, create=create, init=init)
    return SqliteStore(db, layout, office=office, create=create, init=init)


def shown(db: str | Path) -> str:
    """The database as logs and messages name it (a URL's password left out)."""
    return where(str(db)) if is_postgres(db) else str(db)


def storage_line(trouble: StorageFailed, db_path: str | Path) -> str:
    """What the log says while commits fail: the cause first, in words an operator acts on."""
    if trouble.full:
        return (
            f"the disk is full: nothing is saved and commands answer 503 storage_full until"
            f" space is freed where {db_path} lives ({trouble.detail})"
        )
    return f"the storage refuses writes: commands answer 503 storage_error ({trouble.detail})"


async def watching_storage(store: Store, db_path: str | Path) -> None:
    """While commits fail: say so once, then probe until the storage takes writes again (the
    disk was given space back), so the server recovers by itself with no command to try."""
    reported: StorageFailed | None = None
    while True:
        await asyncio.sleep(STORAGE_PROBE_SEC)
        trouble = store.trouble
        if trouble is not None:
            if reported is None or reported.code != trouble.code:
                log.error("%s", storage_line(trouble, db_path))
                reported = trouble
            with contextlib.suppress(StorageFailed):
                await store.probe()
        if reported is not None and store.trouble is None:  # a probe or a command got through
            log.warning("storage works again: commands are saved, /healthz is ready")
            reported = None


def create_app(
    config: OfficeConfig,
    db_path: str | Path,
    clock: Callable[[], datetime] | None = None,
    tick_sec: float = TICK_SEC,
    *,
    init: bool = False,
    control_url: str | None = None,
) -> web.Application:
    """The server for ``config`` on the database at ``db_path``, which must exist and belong to
    this office unless ``init`` (a new office: ``lobby serve --init``); the start refuses with
    :class:`UnusableStore` otherwise. ``control_url``: where this server answers, written to
    the local control file for ``lobby emergency`` (``server/control.py``)."""
    app = web.Application(
        middlewares=[real_client, request_lines, security_headers, json_errors, authenticate],
        client_max_size=256 * 1024,
    )
    store = store_for(
        db_path, layout=counter_layout(config), office=config.name, create=init, init=init
    )
    office = Office(config, store, clock)
    office.tick_sec = tick_sec
    app[OFFICE] = office
    app[PRINCIPALS] = {}
    app[SIGN_IN_LIMITS] = SignInLimits()
    security = config.security
    app[CHECK_IN_LIMIT] = CheckInLimit(Attempts(security.check_ins_per_device_per_min, 60.0))
    app[SESSIONS] = SessionPolicy(security.session_idle_min * 60, security.session_max_hours * 3600)
    # beside an SQLite file; an office on PostgreSQL keeps it under var/ where it is started
    folder = Path("var") if is_postgres(db_path) else Path(db_path).parent
    app[SPEECH] = Speech(folder / "speech-cache")
    app[CONTROL] = ""
    shipper = shipper_for(config, store)  # to headquarters, when configured

    def load() -> None:
        log.info("replayed %d events from %s", office.load(), shown(db_path))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with store.running(before_start=load):
            await office.remember_fresh_calls()
            tasks = [
                asyncio.create_task(housekeeping(office)),
                asyncio.create_task(ticking(office)),
                asyncio.create_task(watching_storage(store, shown(db_path))),
                *([asyncio.create_task(shipper.run(), name="lobby-shipping")] if shipper else []),
            ]
            yield
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await office.drain(SHUTDOWN_DRAIN_SEC)  # a commit cut short by the stop, say
            try:  # the next start then replays nothing
                await office.save_snapshot()
            except StorageFailed as failed:  # a shortcut only: the log already holds everything
                log.warning("no snapshot saved at shutdown: %s", failed.detail)
            except Exception:
                log.exception("could not save a snapshot at shutdown")

    async def on_shutdown(app: web.Application) -> None:
        await office.hub.close_all()

    async def controlled(app: web.Application) -> AsyncIterator[None]:
        if control_url is None:
            yield
            return
        path = control_path(db_path, postgres=is_postgres(db_path), name=shown(db_path))
        token = new_token()
        app[CONTROL] = hash_token(token)
        write_control(path, Control(control_url, token, os.getpid()))
        try:
            yield
        finally:
            remove_control(path, token)

    async def locked(app: web.Application) -> AsyncIterator[None]:
        with serving(db_path):  # a second server, or a restore, is refused while this one runs
            yield

    app.cleanup_ctx.append(locked)
    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(controlled)
    app.on_shutdown.append(on_shutdown)
    openapi = build_openapi(config.name)

    async def openapi_json(request: web.Request) -> web.Response:
        return web.json_response(openapi)

    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_get("/ws", stream)
    pages.add_routes(app)
    add_metrics(app, office)
    if shipper is not None:
        app[METRICS].registry.register(ShippingGauges(shipper.state, store))
    add_doctor(app, None if is_postgres(db_path) else Path(db_path))
    return app
