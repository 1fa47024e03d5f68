"""SIGTERM (``systemctl stop``, ``systemctl restart``) in the middle of a burst of check-ins:
requests already being answered finish, none is answered 5xx, every check-in answered 2xx is
in the database after the restart, and every live screen is told the server is going away
(close code 1001) rather than losing its connection."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient, ServerUnreachable, ws_url
from tests.conftest import visitor
from tests.server_process import server_process

KIOSKS = 16
SCREENS = 5
GOING_AWAY = 1001


async def test_sigterm_during_a_burst_answers_no_5xx_loses_nothing_and_says_going_away(
    tmp_path: Path,
) -> None:
    async with server_process(tmp_path) as office:
        answered: dict[str, p.TicketView] = {}
        failures: list[int] = []
        closes: list[int | None] = []
        connected = asyncio.Event()

        async def kiosk(worker: int) -> None:
            async with LobbyClient(office.url, office.tokens["kiosk"], timeout=5) as client:
                for i in range(10_000):
                    rid = f"term-{worker:02d}-{i:05d}"
                    try:
                        answered[rid] = await client.check_in(visitor(rid))
                    except ApiError as refused:
                        failures.append(refused.status)
                        return
                    except ServerUnreachable:
                        return

        async def screen() -> None:
            headers = {"Authorization": f"Bearer {office.tokens['display']}"}
            async with connect(ws_url(office.url), additional_headers=headers) as ws:
                connected.set()
                try:
                    async for _ in ws:
                        pass
                except ConnectionClosed:
                    pass
                closes.append(ws.close_code)

        screens = [asyncio.create_task(screen()) for _ in range(SCREENS)]
        await asyncio.wait_for(connected.wait(), 10)
        kiosks = [asyncio.create_task(kiosk(w)) for w in range(KIOSKS)]
        while len(answered) < 200:
            await asyncio.sleep(0.005)
        status = await office.stop(signal.SIGTERM)
        await asyncio.gather(*kiosks)
        await asyncio.wait_for(asyncio.gather(*screens), 10)

        assert status == 0, f"the server exited with status {status}"
        assert [code for code in failures if code >= 500] == [], "a check-in answered 5xx"
        assert closes == [GOING_AWAY] * SCREENS, "every screen is told the server goes away"
        with sqlite3.connect(office.db) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        log = office.log_text()
        assert "Traceback" not in log and " ERROR " not in log, log

        await office.start()
        boss = await office.staff("super")
        kept = {t.id: t.number for t in (await boss.state()).tickets}
        lost = [t.number for t in answered.values() if kept.get(t.id) != t.number]
        assert lost == [], f"answered but lost: {lost}"
        assert len(kept) >= len(answered)
        assert len(set(kept.values())) == len(kept), "a number was issued twice"
