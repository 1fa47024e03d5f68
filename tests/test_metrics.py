"""``/metrics``: Prometheus' text format, parsed with prometheus-client's own parser, holding
the figures the API's state holds; for supervisors (or this machine, when configured) only,
and never a private field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from lobby import protocol as p
from server.config import OfficeConfig
from tests.conftest import RunningServer, following, running_server, visitor

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parsed(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def scrape(server: RunningServer, token: str | None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/metrics", headers=headers) as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


async def test_metrics_hold_the_published_figures(server: RunningServer) -> None:
    kiosk = server.kiosk()
    clerk = await server.staff("clerk")
    supervisor = await server.staff("super")
    for n in range(5):
        await kiosk.check_in(
            visitor(f"metrics-{n:04d}", name="Zebulon Quartermaine", needs=["wheelchair"])
        )
    await kiosk.check_in(visitor("metrics-billing", service="billing"))
    await clerk.counter_action("w1", "open")
    called = await clerk.call_next("w1")
    await clerk.ticket_action(called.id, "notes", p.NoteRequest(text="Xylophone-Paperwork-77"))
    await kiosk.printer_status("paper_near_end", "roll low")

    async with following(server, server.tokens["display"]):
        status, content_type, text = await scrape(server, supervisor.token)
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        samples = parsed(text)
        state = await supervisor.state()
        assert value(samples, "lobby_published_seq") == state.seq
        for service in state.services:
            assert value(samples, "lobby_waiting", service=service.id) == service.waiting
            assert (
                value(samples, "lobby_longest_wait_minutes", service=service.id)
                == service.longest_wait_min
            )
            assert (
                value(samples, "lobby_target_wait_minutes", service=service.id)
                == service.target_wait_min
            )
            assert value(samples, "lobby_wait_level", service=service.id, level=service.wait_level)
        assert value(samples, "lobby_waiting", service="permits") == 4
        assert value(samples, "lobby_check_ins_total") == 6
        assert value(samples, "lobby_calls_total") == 1
        assert value(samples, "lobby_counters", state="calling") == 1
        device = next(iter(state.printers))
        assert value(samples, "lobby_printer_status", device=device, status="paper_near_end") == 1
        assert value(samples, "lobby_stream_clients", audience="public") == 1
        assert value(samples, "lobby_storage_ok") == 1
        assert value(samples, "lobby_commit_seconds_count") >= 9
        check_in_route = {"method": "POST", "route": "/api/tickets"}
        assert value(samples, "lobby_request_seconds_count", **check_in_route) == 6
    for private in ("Zebulon", "Quartermaine", "wheelchair", "Xylophone"):
        assert private not in text


async def test_metrics_need_a_supervisor(server: RunningServer) -> None:
    assert (await scrape(server, None))[0] == 401
    assert (await scrape(server, server.tokens["kiosk"]))[0] == 403
    clerk = await server.staff("clerk")
    assert (await scrape(server, clerk.token))[0] == 403


async def test_metrics_from_this_machine_when_the_office_allows_it(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    security = dataclasses.replace(office_config.security, metrics_from_loopback=True)
    config = dataclasses.replace(office_config, security=security)
    async with running_server(tmp_path, config) as server:
        status, _, text = await scrape(server, None)
        assert status == 200 and "lobby_waiting" in text
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}) as r,
        ):
            assert r.status == 401  # passed on by a proxy: not this machine


async def test_metrics_say_when_the_office_is_in_emergency_mode(server: RunningServer) -> None:
    supervisor = await server.staff("super")

    async def samples() -> Samples:
        return parsed((await scrape(server, supervisor.token))[2])

    before = await samples()
    assert value(before, "lobby_emergency_mode", kind="drill") == 0
    assert value(before, "lobby_emergency_screens_unacknowledged") == 0
    await supervisor.request("POST", "/api/emergency", p.EmergencyStartRequest(kind="drill"))
    during = await samples()
    assert value(during, "lobby_emergency_mode", kind="drill") == 1
    assert value(during, "lobby_emergency_mode", kind="evacuate") == 0
    assert value(during, "lobby_emergency_screens_unacknowledged") == 2, "the kiosk and display"
    await supervisor.request("POST", "/api/emergency/end")
    assert value(await samples(), "lobby_emergency_mode", kind="drill") == 0
