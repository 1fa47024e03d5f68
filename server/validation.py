"""Request bodies decoded and checked against the Structs in :mod:`lobby.protocol`, and path
parameters against the types in :data:`PATH_PARAMS`.

The same types generate the OpenAPI document, so what is validated is what is documented.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from aiohttp import web

from server.config import Ident
from server.errors import api_error

T = TypeVar("T")
TicketId = Annotated[int, msgspec.Meta(ge=1, le=10**12)]
PATH_PARAMS: dict[str, Any] = {
    "ticket_id": TicketId,
    "counter_id": Ident,  # the configuration's own rule for ids
    "service_id": Ident,
    "device_id": TicketId,  # a positive integer, as the database numbers them
    "chart": Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z-]{0,39}$")],
}
"""Every path parameter of the API and the type it must convert to; a route's ``{name}``."""
_PATH_NOUNS = {
    "ticket_id": "ticket",
    "counter_id": "counter",
    "service_id": "service",
    "device_id": "device",
    "chart": "chart",
}
MAX_BODY = 64 * 1024
_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def describe(error: msgspec.ValidationError) -> tuple[str, str | None]:
    """Split msgspec's message into a plain sentence and the field it concerns."""
    text = str(error)
    field: str | None = None
    match = _PATH.search(text)
    if match:
        field = match.group(1) or None
        text = text[: match.start()]
    for pattern in (_UNKNOWN, _MISSING):
        named = pattern.search(text)
        if named:
            field = f"{field}.{named.group(1)}" if field else named.group(1)
    return text, field


async def read_body(request: web.Request, kind: type[T]) -> T:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise api_error(413, "too_large", f"request body over {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise api_error(413, "too_large", f"request body over {MAX_BODY} bytes")
    if not raw.strip():
        raw = b"{}"
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        message, field = describe(exc)
        raise api_error(422, "invalid", message, field) from None
    except msgspec.DecodeError as exc:
        raise api_error(400, "malformed_json", f"body is not valid JSON: {exc}") from None


def path_param(request: web.Request, name: str) -> Any:
    """The path parameter ``name`` converted to its type in :data:`PATH_PARAMS`.

    One that does not fit (``/api/tickets/%C2%B3``: a superscript digit, too long, not an id)
    cannot name anything this office holds, so it is a 404 like an unknown one, never a 500.
    """
    raw = request.match_info[name]
    try:
        return msgspec.convert(raw, PATH_PARAMS[name], strict=False)
    except msgspec.ValidationError:
        noun = _PATH_NOUNS.get(name, name)
        raise api_error(404, "not_found", f"no {noun} with id {raw[:40]!r}", name) from None
