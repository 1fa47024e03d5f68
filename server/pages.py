"""Web pages served by the server: the visitor's status page and the supervisor dashboard.

The status page is public (anyone holding the printed QR code) and therefore shows only the
public ticket view: number, service, place in line, estimate, what to bring. Never a name.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from server import presenters as present
from server.auth import require
from server.errors import api_error
from server.keys import OFFICE

WEB = resources.files("server") / "web"


def _asset(name: str, content_type: str) -> web.Response:
    return web.Response(text=(WEB / name).read_text(encoding="utf-8"), content_type=content_type)


def _ticket_by_token(request: web.Request):  # type: ignore[no-untyped-def]
    office = request.app[OFFICE]
    token = request.match_info["token"]
    for ticket in reversed(list(office.engine.tickets.values())):
        if ticket.status_token == token:
            return office, ticket
    raise api_error(404, "not_found", "this ticket is not known (it may be from another day)")


async def status_page(request: web.Request) -> web.Response:
    _ticket_by_token(request)
    return _asset("status.html", "text/html")


async def status_json(request: web.Request) -> web.Response:
    office, ticket = _ticket_by_token(request)
    now = office.now()
    view = present.ticket_view(office.engine, ticket, "public", now)
    service = office.engine.services[ticket.service]
    return web.json_response(
        {
            "office": office.config.name,
            "ticket": _plain(view),
            "info": service.info,
            "notice": office.engine.notice,
            "languages": list(office.config.languages),
        }
    )


def _plain(view: object) -> object:
    import msgspec

    return msgspec.to_builtins(view)


async def supervisor_page(request: web.Request) -> web.Response:
    require(request, "supervisor", "admin")
    return _asset("supervisor.html", "text/html")


async def index(request: web.Request) -> web.Response:
    office = request.app[OFFICE]
    links = "".join(
        f'<li><a href="{href}">{label}</a></li>'
        for href, label in (
            ("/display", "Lobby display (needs a display token)"),
            ("/supervisor", "Supervisor dashboard (needs a supervisor session)"),
            ("/api/openapi.json", "API description (OpenAPI 3.1)"),
        )
    )
    return web.Response(
        text=f"<!doctype html><meta charset=utf-8><title>Lobby</title>"
        f"<h1>{present.html_escape(office.config.name)}</h1><ul>{links}</ul>",
        content_type="text/html",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/status/{token}", status_page)
    app.router.add_get("/status/{token}/json", status_json)
    app.router.add_get("/supervisor", supervisor_page)
