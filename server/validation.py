"""Request bodies decoded and checked against the Structs in :mod:`lobby.protocol`.

The same Structs generate the OpenAPI document, so what is validated is what is documented.
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from aiohttp import web

from server.errors import api_error

T = TypeVar("T")
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
