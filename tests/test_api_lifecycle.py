"""The full visit over HTTP against a real server, and what the stream shows of it."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from lobby import protocol as p
from lobby.client import ApiError, live
from tests.conftest import RunningServer, until, visitor


async def test_full_visit_from_check_in_to_needs_met(server: RunningServer) -> None:
    kiosk = server.kiosk()
    clerk = await server.staff("clerk")
    ticket = await kiosk.check_in(visitor("req-00001", name="Maria Garcia", address_as="ms"))
    assert ticket.number == "P-001" and ticket.state == "waiting" and ticket.position == 1
    assert ticket.name is None, "the kiosk must not get private fields back"
    assert ticket.status_url.startswith("http://127.0.0.1:8080/status/")

    await clerk.counter_action("w1", "open")
    called = await clerk.call_next("w1")
    assert (called.id, called.state, called.counter) == (ticket.id, "called", "w1")
    assert called.addressed_as == "Ms. Garcia"
    recalled = await clerk.ticket_action(ticket.id, "recall")
    assert recalled.recalls == 1
    serving = await clerk.ticket_action(ticket.id, "start")
    assert serving.state == "serving"
    done = await clerk.ticket_action(
        ticket.id, "complete", p.CompleteRequest(needs_met=True, notes="Permit renewed")
    )
    assert done.state == "done" and done.needs_met is True
    assert [n.text for n in done.notes or []] == ["Permit renewed"]
    with pytest.raises(ApiError) as refused:
        await clerk.call_next("w1")
    assert refused.value.status == 409


async def test_retry_with_same_request_id_returns_the_same_ticket(server: RunningServer) -> None:
    kiosk = server.kiosk()
    first = await kiosk.check_in(visitor("retry-0001"))
    again = await kiosk.check_in(visitor("retry-0001"))
    other = await kiosk.check_in(visitor("retry-0002"))
    assert first.id == again.id and first.number == again.number == "P-001"
    assert other.number == "P-002"
    state = await (await server.staff("super")).state()
    assert len(state.tickets) == 2


async def test_stream_sends_snapshot_then_numbered_patches(server: RunningServer) -> None:
    clerk = await server.staff("clerk")
    received: list[p.StreamMessage] = []

    async def watch() -> None:
        async for message in live(server.url, server.tokens["display"]):
            received.append(message)

    task = asyncio.create_task(watch())
    try:
        await until(lambda: bool(received))
        assert isinstance(received[0], p.StreamSnapshot)
        await server.kiosk().check_in(visitor("req-00001", name="Secret Person"))
        await clerk.counter_action("w1", "open")
        await clerk.call_next("w1")
        await until(lambda: any(isinstance(m, p.StreamPatch) and m.announce for m in received))
        patches = [m for m in received if isinstance(m, p.StreamPatch) and not m.is_tick]
        seqs = [m.seq for m in patches]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        called = next(m for m in patches if m.announce)
        assert called.cause == ["ticket.called"]
        assert called.announce[0].number == "P-001"
        assert called.announce[0].counter_name == "Window 1"
        assert called.tickets == [], "displays receive no tickets"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_restart_rebuilds_the_same_state(server: RunningServer) -> None:
    kiosk = server.kiosk()
    clerk = await server.staff("clerk")
    for i in range(3):
        await kiosk.check_in(visitor(f"restart-{i:04d}"))
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    before = await (await server.staff("super")).state()
    await server.restart()
    after = await (await server.staff("super")).state()
    assert [(t.number, t.state, t.counter) for t in after.tickets] == [
        (t.number, t.state, t.counter) for t in before.tickets
    ]
    assert after.seq == before.seq
    assert [c.state for c in after.counters] == [c.state for c in before.counters]
    fourth = await server.kiosk().check_in(visitor("restart-0009"))
    assert fourth.number == "P-004"


async def test_the_status_link_opens_in_the_language_used_at_the_kiosk(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    spanish = await kiosk.check_in(visitor("lang-0001", kiosk_language="es"))
    english = await kiosk.check_in(visitor("lang-0002", kiosk_language="en"))
    unknown = await kiosk.check_in(visitor("lang-0003", kiosk_language="fr"))
    assert spanish.status_url.endswith("?lang=es")
    assert "?" not in english.status_url and "?" not in unknown.status_url


async def test_sign_out_ends_the_session_and_a_stale_cookie_reads_as_signed_out(
    server: RunningServer,
) -> None:
    import aiohttp

    clerk = await server.staff("clerk")
    token = clerk.token
    await clerk.request("POST", "/api/logout")
    with pytest.raises(ApiError) as gone:
        await clerk.state()
    assert gone.value.status == 401
    async with aiohttp.ClientSession(cookies={"lobby_token": token or ""}) as browser:
        async with browser.get(server.url + "/supervisor") as page:
            assert page.status == 200
            assert "lobby_token" in page.headers.get("Set-Cookie", "")
        async with browser.get(server.url + "/api/state") as api:
            assert api.status == 401


async def test_a_reissued_device_token_retires_the_old_one_without_a_restart(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.app as app_module
    from server.auth import hash_token
    from server.store.sqlite import SqliteStore

    monkeypatch.setattr(app_module, "PRINCIPAL_CACHE_SEC", 0.0)
    old = server.kiosk()
    await old.state()  # known and remembered
    with SqliteStore(server.db).offline() as accounts:
        accounts.add_device("test-kiosk", "kiosk", hash_token("a-brand-new-kiosk-token"))
    with pytest.raises(ApiError) as retired:
        await old.state()
    assert retired.value.status == 401
    assert (await server.client("a-brand-new-kiosk-token").state()).role == "kiosk"
