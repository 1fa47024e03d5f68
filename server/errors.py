"""JSON error responses: every refusal says what is wrong, in one shape."""

from __future__ import annotations

import msgspec
from aiohttp import web

from lobby.protocol import ErrorBody, ErrorResponse

STATUS_BY_KIND = {
    "not_found": 404,
    "conflict": 409,
    "invalid": 422,
    "unknown_kind": 400,
    "emergency": 409,
    "emergency_active": 409,
    "no_emergency": 409,
    "not_current": 409,
}
"""The HTTP status of each kind of engine refusal (the kind is the error's ``code``)."""


def api_error(status: int, code: str, message: str, field: str | None = None) -> web.HTTPException:
    """An exception aiohttp sends as ``{"error": {"code", "message", "field"?}}``."""
    body = msgspec.json.encode(ErrorResponse(ErrorBody(code, message, field))).decode()
    exc = web.HTTPException(text=body, content_type="application/json")
    exc.set_status(status)
    return exc
