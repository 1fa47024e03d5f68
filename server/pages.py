"""Web pages served by the server: the visitor's status page and the supervisor dashboard.

The status page is public (anyone holding the printed QR code) and therefore shows only the
public ticket view: number, service, place in line, estimate, what to bring. Never a name.

The supervisor page is served to anyone: it holds no data, only the code that asks
``/api/state`` with the caller's session and offers a sign-in form when there is none. Both
pages load their script and style from a fixed list of files, so a strict Content-Security-Policy
(no inline code, nothing from elsewhere) holds.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from pathlib import Path

import msgspec
from aiohttp import web

from lobby.i18n import Catalogues
from lobby.protocol import SurveyRequest
from server.auth import PRINCIPAL
from server.display_page import add_display_routes
from server.engine import Refused, Ticket
from server.errors import STATUS_BY_KIND, api_error
from server.keys import OFFICE
from server.live import HEARTBEAT_SEC, origin_allowed
from server.office import Office
from server.reports.printable import report_page
from server.stream import Client
from server.validation import read_body
from server.views import SUPERVISORS, period_report

WEB = resources.files("server") / "web"
_encoder = msgspec.json.Encoder()
# The script and style each page may load, by page: nothing else under web/ is served.
ASSETS = {
    "status": {
        "status.js": "text/javascript",
        "status.css": "text/css",
        "labels.json": "application/json",
    },
    "supervisor": {
        "supervisor.js": "text/javascript",
        "supervisor.css": "text/css",
        "report.css": "text/css",
    },
}
ASSET_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
HOST_RE = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
# The status URL is a bearer secret for one visit: keep it out of search engines.
STATUS_HEADERS = PAGE_HEADERS | {"X-Robots-Tag": "noindex, nofollow"}

# Shown when a QR code points at a visit this office does not know (another day, a typo, or
# erased). The visitor's language is unknown here, so the page says it in every catalogue
# language the status page speaks.
UNKNOWN_TICKET_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ticket not found</title>
<link rel="stylesheet" href="/status/assets/status.css">
</head>
<body>
<main class="page">
  <header class="office"><span>{office}</span></header>
  <section class="card unknown" lang="en">
    <h1>We could not find this ticket</h1>
    <p>It may be from another day, or the address was not copied in full.</p>
    <p class="ask">Please ask at the front desk. We are happy to help.</p>
  </section>
  <section class="card unknown" lang="es">
    <h2>No encontramos este turno</h2>
    <p>Puede ser de otro día, o la dirección no se copió completa.</p>
    <p class="ask">Por favor, pregunte en la recepción. Con gusto le ayudamos.</p>
  </section>
  <section class="card unknown" lang="so">
    <h2>Tigidhkan lama helin</h2>
    <p>Waxaa laga yaabaa inuu ka yimid maalin kale, ama cinwaanka si buuxda looma koobiyeyn.</p>
    <p class="ask">Fadlan weydii miiska hore. Waan ku caawin doonnaa.</p>
  </section>
</main>
</body>
</html>
"""


def _ticket_by_token(office: Office, token: str) -> Ticket | None:
    ticket_id = office.engine.status_tokens.get(token)
    return office.engine.tickets[ticket_id] if ticket_id is not None else None


@cache
def _web_file(name: str) -> bytes:
    """The files ship inside the package and do not change while the server runs: read once.
    The status page's labels are its gettext catalogues (``web/status/LANG.po``) as JSON."""
    if name == "labels.json":
        return Catalogues.load(Path(str(WEB / "status"))).tables_json()
    return (WEB / name).read_bytes()


def _file_response(name: str, content_type: str, headers: dict[str, str]) -> web.Response:
    return web.Response(
        body=_web_file(name), content_type=content_type, charset="utf-8", headers=headers
    )


async def status_page(request: web.Request) -> web.Response:
    office = request.app[OFFICE]
    if _ticket_by_token(office, request.match_info["token"]) is None:
        return web.Response(
            status=404,
            text=UNKNOWN_TICKET_PAGE.format(office=html.escape(office.config.name)),
            content_type="text/html",
            headers=STATUS_HEADERS,
        )
    return _file_response("status.html", "text/html", _streaming(STATUS_HEADERS, request))


async def status_json(request: web.Request) -> web.Response:
    """The visit's status once (the page follows ``/status/{token}/ws``; this serves a single
    look, e.g. a phone that cannot keep a connection open)."""
    office = request.app[OFFICE]
    ticket = _ticket_by_token(office, request.match_info["token"])
    if ticket is None:
        raise api_error(404, "not_found", "this ticket is not known (it may be from another day)")
    return web.Response(
        body=_encoder.encode(office.visit_status(ticket)),
        content_type="application/json",
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"},
    )


async def status_stream(request: web.Request) -> web.WebSocketResponse:
    """The visit's status now, then again each time a published patch moves it: the status
    page holds the same figures as every other screen, with nothing to poll."""
    office = request.app[OFFICE]
    ticket = _ticket_by_token(office, request.match_info["token"])
    if ticket is None:
        raise api_error(404, "not_found", "this ticket is not known (it may be from another day)")
    if not origin_allowed(request):
        raise api_error(403, "forbidden", "WebSocket from a foreign origin")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SEC, compress=False, max_msg_size=4096)
    await ws.prepare(request)
    status = office.visit_status(ticket)  # no await before the client joins the hub
    client = Client(ws, "visitor", status.seq, request.transport, ticket=ticket.id)
    await office.hub.serve(client, [_encoder.encode(status).decode()])
    return ws


def _streaming(headers: dict[str, str], request: web.Request) -> dict[str, str]:
    """``headers`` for a page that follows a live stream: older browsers do not count ws:// to
    the same host as 'self', so the policy names it."""
    policy = headers["Content-Security-Policy"]
    host = request.host
    if HOST_RE.fullmatch(host):
        policy = policy.replace(
            "connect-src 'self'", f"connect-src 'self' ws://{host} wss://{host}"
        )
    return headers | {"Content-Security-Policy": policy}


async def supervisor_page(request: web.Request) -> web.Response:
    return _file_response("supervisor.html", "text/html", _streaming(PAGE_HEADERS, request))


# The printable report runs no script at all: every figure on it is written by the server.
REPORT_HEADERS = PAGE_HEADERS | {
    "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"].replace(
        "script-src 'self'", "script-src 'none'"
    )
}


def _report_notice(status: int, title: str, words: str) -> web.Response:
    """What the printable report says instead of figures: one message and the way on."""
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/supervisor/assets/report.css"></head>'
        f'<body><main class="report signin-needed"><h1>{html.escape(title)}</h1>'
        f'<p>{html.escape(words)}</p><p><a href="/supervisor">Open the supervisor dashboard</a>'
        "</p></main></body></html>"
    )
    return web.Response(status=status, text=page, content_type="text/html", headers=REPORT_HEADERS)


async def printable_report(request: web.Request) -> web.Response:
    """The period's report as one printable page (``from`` and ``to`` as for the API)."""
    principal = request.get(PRINCIPAL)
    if principal is None or principal.role not in SUPERVISORS:
        return _report_notice(
            401,
            "Sign in to see this report",
            "Reports are for supervisors. Sign in on the supervisor dashboard, then open the"
            " printable report from its Reports panel.",
        )
    try:
        figures = await period_report(request)
    except web.HTTPException as refused:
        message = msgspec.json.decode(refused.text or "{}").get("error", {}).get("message", "")
        return _report_notice(refused.status, "This report cannot be made", message)
    return web.Response(text=report_page(figures), content_type="text/html", headers=REPORT_HEADERS)


async def page_asset(request: web.Request) -> web.Response:
    page, name = request.match_info["page"], request.match_info["name"]
    content_type = ASSETS[page].get(name)
    if content_type is None:
        raise api_error(404, "not_found", f"no {page} page file named {name!r}")
    return _file_response(name, content_type, ASSET_HEADERS)


async def office_state_script(request: web.Request) -> web.Response:
    """The one fold of the live stream the pages use (display and supervisor)."""
    return _file_response("office_state.js", "text/javascript", ASSET_HEADERS)


async def index(request: web.Request) -> web.Response:
    office = request.app[OFFICE]
    links = "".join(
        f'<li><a href="{href}">{label}</a></li>'
        for href, label in (
            ("/display", "Lobby display (needs a display token)"),
            ("/supervisor", "Supervisor dashboard (sign in as a supervisor)"),
            ("/api/openapi.json", "API description (OpenAPI 3.1)"),
        )
    )
    return web.Response(
        text=f"<!doctype html><meta charset=utf-8><title>Lobby</title>"
        f"<h1>{html.escape(office.config.name)}</h1><ul>{links}</ul>",
        content_type="text/html",
    )


async def status_survey(request: web.Request) -> web.Response:
    """The visitor's own "were your needs met?" answer, once, after the visit."""
    office = request.app[OFFICE]
    ticket = _ticket_by_token(office, request.match_info["token"])
    if ticket is None:
        raise api_error(404, "not_found", "this ticket is not known")
    body = await read_body(request, SurveyRequest)
    try:
        await office.act(
            lambda now: office.engine.answer_survey(now, ticket.id, body.needs_met, body.rating)
        )
    except Refused as refused:
        raise api_error(STATUS_BY_KIND[refused.kind], refused.kind, refused.message) from None
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/status/{token}/survey", status_survey)
    app.router.add_get("/", index)
    app.router.add_get("/assets/office_state.js", office_state_script)
    app.router.add_get("/{page:status|supervisor}/assets/{name}", page_asset)
    app.router.add_get("/status/{token}", status_page)
    app.router.add_get("/status/{token}/json", status_json)
    app.router.add_get("/status/{token}/ws", status_stream)
    app.router.add_get("/supervisor", supervisor_page)
    app.router.add_get("/supervisor/report", printable_report)
    add_display_routes(app)
