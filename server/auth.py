"""Who is asking: bearer tokens for devices and staff sessions, argon2 for passwords.

Only hashes of tokens are stored, so a copied database does not hand out working tokens.
Browser pages may pass ``?token=`` once; the middleware turns it into an HttpOnly cookie so the
token does not linger in the address bar or the history.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import api_error

COOKIE = "lobby_token"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    kind: str  # staff or device
    id: int


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the name is unknown, so timing does not reveal names.
DUMMY_HASH = _hasher.hash(secrets.token_hex(8))


def token_from(request: web.Request) -> tuple[str | None, str]:
    """The token and where it came from: header, query (to become a cookie) or cookie."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None, "header"
    query = request.query.get("token")
    if query:
        return query, "query"
    return request.cookies.get(COOKIE), "cookie"


PRINCIPAL = web.RequestKey("principal", Principal)


def require(request: web.Request, *roles: str) -> Principal:
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        raise api_error(
            401, "unauthorized", "sign in or send a device token (Authorization: Bearer)"
        )
    if roles and principal.role not in roles:
        raise api_error(
            403, "forbidden", f"a {principal.role} may not do this (needs {' or '.join(roles)})"
        )
    return principal
