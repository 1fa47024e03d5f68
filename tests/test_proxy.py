"""Behind a reverse proxy: the visitor's address is read from ``X-Forwarded-For`` only when
the request comes from a proxy the office trusts, so sign-in limits count real addresses and
nobody else can choose the address they are counted under."""

from __future__ import annotations

import dataclasses
from ipaddress import ip_network
from pathlib import Path

import aiohttp
import pytest

from server.config import ConfigError, OfficeConfig, parse_config
from server.proxy import forwarded_client
from tests.conftest import CONFIG_PATH, RunningServer, running_server

LOOPBACK = (ip_network("127.0.0.1/32"), ip_network("::1/128"))
PER_ADDRESS = 20  # wrong passwords one address may send (server/auth.py SignInLimits)


async def wrong_sign_in(server: RunningServer, name: str, forwarded_for: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.url}/api/login",
            json={"name": name, "password": "not-the-password"},
            headers={"X-Forwarded-For": forwarded_for},
        ) as answer,
    ):
        return answer.status


async def lock_out(server: RunningServer, forwarded_for: str) -> None:
    for i in range(PER_ADDRESS):
        assert await wrong_sign_in(server, f"guess-{i}", forwarded_for) == 401


def behind_proxy(config: OfficeConfig, *proxies: str) -> OfficeConfig:
    networks = tuple(ip_network(p) for p in proxies)
    security = dataclasses.replace(config.security, trusted_proxies=networks)
    return dataclasses.replace(config, security=security)


async def test_behind_a_trusted_proxy_each_visitor_is_limited_by_their_own_address(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    async with running_server(tmp_path, behind_proxy(office_config, "127.0.0.1")) as server:
        await lock_out(server, "203.0.113.5")
        assert await wrong_sign_in(server, "someone", "203.0.113.5") == 429
        assert await wrong_sign_in(server, "someone", "203.0.113.6") == 401, "another visitor"
        # what a client claims left of the proxy's own entry is not believed
        assert await wrong_sign_in(server, "someone", "198.51.100.1, 203.0.113.5") == 429


async def test_without_a_trusted_proxy_the_header_is_ignored(server: RunningServer) -> None:
    await lock_out(server, "203.0.113.5")
    assert await wrong_sign_in(server, "someone", "203.0.113.6") == 429, "same real address"


def test_the_client_is_the_right_most_address_no_trusted_proxy_added() -> None:
    assert forwarded_client("203.0.113.5", LOOPBACK) == "203.0.113.5"
    assert forwarded_client("10.9.9.9, 203.0.113.5, 127.0.0.1", LOOPBACK) == "203.0.113.5"
    assert forwarded_client("127.0.0.1", LOOPBACK) == "127.0.0.1"
    assert forwarded_client("", LOOPBACK) is None
    assert forwarded_client("203.0.113.5, not-an-address", LOOPBACK) is None


def test_a_proxy_that_is_not_an_address_names_the_field() -> None:
    text = CONFIG_PATH.read_text().replace(
        "[security]\n", '[security]\ntrusted_proxies = ["127.0.0.1", "the-proxy"]\n', 1
    )
    with pytest.raises(ConfigError, match=r"security.trusted_proxies: 'the-proxy' is not an"):
        parse_config(text, "office.toml")
    ok = parse_config(text.replace('"the-proxy"', '"10.0.0.0/24"'), "office.toml")
    assert ok.security.trusted_proxies == (ip_network("127.0.0.1"), ip_network("10.0.0.0/24"))
