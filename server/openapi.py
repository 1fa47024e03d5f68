"""``/api/openapi.json``, generated from the route declarations and the protocol Structs."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from lobby.protocol import ErrorResponse, StreamPatch, StreamSnapshot, VisitStatus
from server.validation import PATH_PARAMS
from server.views import ROUTES

STREAM = """Live office state for the caller's role (WebSocket). The first message is a
`StreamSnapshot` (`"type": "snapshot"`); then `StreamPatch` messages (`"type": "patch"`), each
carrying the new value of every item it changes, part by part, and the calls to announce. A tick
patch (`"cause": ["tick"]`) carries what the clock alone moved. Fold them in order (the server
does the same to keep what it published); after a reconnect pass `?since=` the last seq seen, and
the new snapshot also announces the calls missed while they are fresh."""


def build_openapi(title: str) -> dict[str, Any]:
    types: list[Any] = [ErrorResponse, StreamSnapshot, StreamPatch, VisitStatus]
    for route in ROUTES:
        types += [t for t in (route.body, route.response) if t is not None]
        types += [t for _, _, t in route.also if t is not None]
    unique = list(dict.fromkeys(types))
    schemas, components = msgspec.json.schema_components(
        unique, ref_template="#/components/schemas/{name}"
    )
    refs = dict(zip(unique, schemas, strict=True))
    error = {"application/json": {"schema": refs[ErrorResponse]}}
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.handler.__name__,
            "responses": {
                str(route.status): {
                    "description": "success",
                    **(
                        {"content": {"application/json": {"schema": refs[route.response]}}}
                        if route.response
                        else {}
                    ),
                },
                "4XX": {"description": "refused; nothing changed", "content": error},
            },
        }
        for status, description, body in route.also:
            operation["responses"][str(status)] = {
                "description": description,
                **({"content": {"application/json": {"schema": refs[body]}}} if body else {}),
            }
        if route.method == "POST":
            operation["responses"]["503"] = {
                "description": "not saved (storage_full: the disk is full; storage_error):"
                " nothing changed, retry with the same client_request_id",
                "content": error,
            }
        if route.roles:
            operation["security"] = [{"bearer": []}]
            operation["description"] = "Roles: " + ", ".join(route.roles)
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[route.body]}},
            }
        params = re.findall(r"{(\w+)}", route.path)
        if params:
            operation["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": msgspec.json.schema(PATH_PARAMS[name]),
                }
                for name in params
            ]
            operation["responses"]["404"] = {
                "description": "no such " + ", ".join(params) + " (or not one at all)",
                "content": error,
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    paths["/ws"] = {
        "get": {
            "summary": "Live office state (WebSocket)",
            "operationId": "stream",
            "description": STREAM,
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "since", "in": "query", "required": False, "schema": {"type": "integer"}}
            ],
            "responses": {
                "101": {
                    "description": "switching to WebSocket; messages follow",
                    "content": {
                        "application/json": {
                            "schema": {"oneOf": [refs[StreamSnapshot], refs[StreamPatch]]}
                        }
                    },
                },
                "4XX": {"description": "refused", "content": error},
            },
        }
    }
    paths.update(visit_status_paths(refs[VisitStatus], error))
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Lobby API — {title}", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def visit_status_paths(status: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """The visitor's status page: the token of the ticket's QR code is the whole credential."""
    token = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}]
    unknown = {"description": "no visit with this token (another day, or erased)", "content": error}
    body = {"application/json": {"schema": status}}
    return {
        "/status/{token}/json": {
            "get": {
                "summary": "One visit's status, once",
                "operationId": "status_json",
                "parameters": token,
                "responses": {
                    "200": {"description": "the status", "content": body},
                    "404": unknown,
                },
            }
        },
        "/status/{token}/ws": {
            "get": {
                "summary": "One visit's status, live (WebSocket)",
                "operationId": "status_stream",
                "description": "The status now, then again whenever it moves, and once a minute.",
                "parameters": token,
                "responses": {
                    "101": {"description": "switching to WebSocket", "content": body},
                    "404": unknown,
                    "403": {"description": "WebSocket from a foreign origin", "content": error},
                },
            }
        },
    }
