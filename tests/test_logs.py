"""``lobby serve --log-format json``: one JSON object per line, a line per durable event (with
its seq and ticket number) and per request, and no name, note or need in any line."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient
from tests.conftest import STAFF, free_port, seed_accounts, visitor
from tests.server_process import start_server_process

NAME = "Zebediah Quillfeather-Okonkwo"
NOTE = "Brought the Marmalade-Affidavit 4417"
CLOSING_NOTE = "Ulterior-Periwinkle form"
NEEDS = ["interpreter", "hearing"]


async def test_json_log_lines_carry_seq_and_number_and_nothing_private(tmp_path: Path) -> None:
    db = tmp_path / "lobby.db"
    tokens = seed_accounts(db)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = await start_server_process(db, port, "--log-format", "json", output=output)
    url = f"http://127.0.0.1:{port}"
    try:
        async with LobbyClient(url, tokens["kiosk"]) as kiosk, LobbyClient(url) as clerk:
            ticket = await kiosk.check_in(
                visitor("log-visit-0001", name=NAME, address_as="ms", language="es", needs=NEEDS)
            )
            # a refused check-in with the same private fields: its line has none either
            with pytest.raises(ApiError) as refused:
                await kiosk.check_in(visitor("log-visit-0002", service="nowhere", name=NAME))
            assert refused.value.status == 422
            await clerk.login("clerk", STAFF["clerk"])
            await clerk.counter_action("w1", "open")
            called = await clerk.call_next("w1")
            assert called.id == ticket.id
            await clerk.ticket_action(ticket.id, "notes", p.NoteRequest(text=NOTE))
            await clerk.ticket_action(ticket.id, "start")
            done = p.CompleteRequest(needs_met=True, notes=CLOSING_NOTE)
            await clerk.ticket_action(ticket.id, "complete", done)
            await clerk.request("GET", f"/api/tickets/{ticket.id}")
            await clerk.request("GET", urlsplit(ticket.status_url).path + "/json")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)

    lines = log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys()
    events = [r for r in records if r["logger"] == "lobby.events"]
    kinds = [(r["kind"], r.get("ticket")) for r in events]
    number = ticket.number
    for kind in ("checked_in", "called", "noted", "started", "completed"):
        assert (f"ticket.{kind}", number) in kinds, kinds
    seqs = [r["seq"] for r in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    requests = [r for r in records if r["logger"] == "lobby.requests"]
    check_in = {"method": "POST", "route": "/api/tickets", "status": 201}
    assert any(check_in.items() <= r.items() for r in requests)
    assert any(r["status"] == 422 for r in requests)
    assert any(r["route"] == "/status/{token}/json" for r in requests)

    token = urlsplit(ticket.status_url).path.rsplit("/", 1)[1]
    secrets = [NAME, *NAME.split(), NOTE, "Marmalade", CLOSING_NOTE, "Periwinkle", *NEEDS, token]
    for line in lines:
        for secret in secrets:
            assert secret not in line, f"{secret!r} in the log: {line}"
