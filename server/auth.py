"""Who is asking: bearer tokens for devices and staff sessions, argon2 for passwords.

Only hashes of tokens are stored, so a copied database does not hand out working tokens.
Browser pages may pass ``?token=`` once; the middleware turns it into an HttpOnly cookie so the
token does not linger in the address bar or the history.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import api_error

log = logging.getLogger("lobby.auth")
_MINUTE = timedelta(minutes=1)
COOKIE = "lobby_token"
_hasher = PasswordHasher()
MIN_PASSWORD = 10
"""Characters a staff password needs (outside the demo office)."""
DEMO_STAFF = (
    ("clerk", "clerk", "clerk"),
    ("clerk2", "clerk", "clerk2"),
    ("super", "supervisor", "super"),
)
"""The demo office's staff as (name, role, password): known to anyone who read the README."""
DEMO_PASSWORDS = frozenset(password for _, _, password in DEMO_STAFF)


def weak_password(password: str) -> str | None:
    """Why ``password`` may not be used outside the demo office, or None."""
    if password in DEMO_PASSWORDS:
        return "it is one of the demo passwords"
    if len(password) < MIN_PASSWORD:
        return f"it has fewer than {MIN_PASSWORD} characters"
    return None


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    kind: str  # staff or device
    id: int


def new_token() -> str:
    return secrets.token_urlsafe(32)


class StatusTokens:
    """Each visitor's status-page token, cut from the kernel's random bytes read
    :data:`READ_BYTES` at a time: reading them is a system call that hands the interpreter to
    the store's writer thread, and one per check-in made the event loop wait for it to come
    back more than the token itself cost."""

    READ_BYTES = 4096

    def __init__(self, token_bytes: int = 12) -> None:
        self._size = token_bytes
        self._random = b""
        self._at = 0

    def next(self) -> str:
        if self._at + self._size > len(self._random):
            self._random, self._at = os.urandom(self.READ_BYTES), 0
        chunk = self._random[self._at : self._at + self._size]
        self._at += self._size
        return base64.urlsafe_b64encode(chunk).rstrip(b"=").decode("ascii")


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


# ------------------------------------------------------------------ limits


@dataclass
class Attempts:
    """Events per key (wrong passwords per name or address, check-ins per device) in a
    sliding window; a key with ``limit`` of them in the window is held back until the oldest
    leaves it. In memory: a restart forgets them, which costs an attacker a restart they
    cannot cause."""

    limit: int
    window_sec: float
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 50_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        now = self.clock()
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and failures[0] <= now - self.window_sec:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window_sec - now))

    def failed(self, key: str) -> None:
        """Count one event for ``key``."""
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._failures.pop(next(iter(self._failures)))  # the oldest key goes first
        self._failures.setdefault(key, deque(maxlen=self.limit)).append(self.clock())

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)


@dataclass
class SignInLimits:
    """Wrong passwords allowed per name and per address before sign-in answers 429.

    Per name stops guessing one person's password from many places; per address stops one
    place trying many names. While a name is locked even the right password is refused, so a
    guess cannot be confirmed.
    """

    per_name: Attempts = field(default_factory=lambda: Attempts(5, 15 * 60))
    per_address: Attempts = field(default_factory=lambda: Attempts(20, 15 * 60))

    def check(self, name: str, address: str) -> None:
        wait = max(
            self.per_name.retry_after(name.casefold()), self.per_address.retry_after(address)
        )
        if wait:
            exc = api_error(
                429,
                "too_many_attempts",
                f"too many wrong passwords; try again in {math.ceil(wait / 60)} min",
            )
            exc.headers["Retry-After"] = str(wait)
            raise exc

    def failed(self, name: str, address: str) -> None:
        self.per_name.failed(name.casefold())
        self.per_address.failed(address)

    def succeeded(self, name: str) -> None:
        self.per_name.forget(name.casefold())


@dataclass
class SessionPolicy:
    """Staff sessions end after ``idle_sec`` without a request and ``max_sec`` after sign-in.

    The last request's time is kept in memory (a restart counts as activity); the sign-in
    time is the session's, in the database.
    """

    idle_sec: float
    max_sec: float
    clock: Callable[[], float] = time.time
    _seen: dict[str, float] = field(default_factory=dict)

    def ended(self, digest: str, started: float) -> str | None:
        """Why the session ``digest`` (signed in at ``started``, epoch seconds) has ended, or
        None; a session still going counts this request as activity."""
        now = self.clock()
        if now - started > self.max_sec:
            return "your session has ended (signed in too long ago); sign in again"
        if now - self._seen.get(digest, now) > self.idle_sec:
            return "your session has ended (idle too long); sign in again"
        self._seen[digest] = now
        return None

    def forget(self, digest: str) -> None:
        self._seen.pop(digest, None)


@dataclass
class CheckInLimit:
    """At most ``per_device.limit`` check-ins a minute from one kiosk token: a stuck key, a
    script or a stolen token cannot flood the queue. ``limited_at``: when each device last hit
    the limit, for the supervisor page."""

    per_device: Attempts
    limited_at: dict[int, datetime] = field(default_factory=dict)

    def admit(self, device: Principal, now: datetime) -> None:
        """Count one check-in by ``device``, or refuse it with 429 and ``Retry-After``."""
        key = str(device.id)
        wait = self.per_device.retry_after(key)
        if wait:
            if device.id not in self.limited_at or now - self.limited_at[device.id] > _MINUTE:
                log.warning(
                    "device %r hit the check-in limit (%d a minute); refusing its check-ins",
                    device.name,
                    self.per_device.limit,
                )
            self.limited_at[device.id] = now
            exc = api_error(
                429,
                "too_many_check_ins",
                "this kiosk checked in too many visitors in the last minute; please ask at the"
                " front desk",
            )
            exc.headers["Retry-After"] = str(wait)
            raise exc
        self.per_device.failed(key)
