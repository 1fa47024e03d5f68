"""The visitor's real address behind the office's reverse proxy (Caddy, nginx).

A proxy in front of the server makes every request come from the proxy's address, so the
sign-in limits would count every wrong password in the office against one address. A proxy
says whom it forwards for in ``X-Forwarded-For`` (and ``X-Forwarded-Proto``), but anyone can
send those headers: they are read only on a request that comes from an address listed in
``[security] trusted_proxies``. The client is then the right-most address in the header that
is not itself a trusted proxy (what the proxy nearest us saw: the addresses left of it are
whatever the client claimed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web

from server.keys import OFFICE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Network = IPv4Network | IPv6Network


def trusted(address: str | None, proxies: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def forwarded_client(forwarded_for: str, proxies: Sequence[Network]) -> str | None:
    """The client address a chain of trusted proxies reports, or None if it names none."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop, proxies):
            try:
                return str(ip_address(hop))
            except ValueError:
                return None  # not an address: believe nothing further left
    return hops[0] if hops else None


@web.middleware
async def real_client(request: web.Request, handler: Handler) -> web.StreamResponse:
    """From a trusted proxy: the request as the client made it (its address and scheme)."""
    proxies = request.app[OFFICE].config.security.trusted_proxies
    if not proxies or not trusted(request.remote, proxies):
        return await handler(request)
    client = forwarded_client(request.headers.get("X-Forwarded-For", ""), proxies)
    scheme = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    changes: dict[str, str] = {}
    if client is not None:
        changes["remote"] = client
    if scheme in ("http", "https"):
        changes["scheme"] = scheme
    return await handler(request.clone(**changes) if changes else request)  # type: ignore[arg-type]
