"""``lobby emergency start|end --db DB`` against the server running that database, found and
authenticated through the control file the server keeps beside it (mode 0600)."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from lobby import protocol as p
from lobby.cli import main
from lobby.client import ApiError
from server.config import OfficeConfig
from server.control import control_path
from tests.conftest import running_server


async def lobby(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_the_command_line_starts_and_ends_it_on_the_running_server(
    tmp_path: Path, office_config: OfficeConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_server(tmp_path, office_config) as server:
        server.control = True
        await server.restart()
        path = control_path(server.db)
        assert path == tmp_path / "lobby.db.control"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, "readable by the server's user only"
        assert await lobby("emergency", "start", "--kind", "drill", "--db", str(server.db)) == 0
        said = capsys.readouterr().out
        assert "drill" in said and "every screen shows it" in said
        state = await (await server.staff("super")).state()
        assert state.office.emergency is not None and state.office.emergency.kind == "drill"
        assert state.office.emergency.started_by.endswith("(command line)")
        assert await lobby("emergency", "start", "--kind", "evacuate", "--db", str(server.db)) == 2
        assert "already in emergency mode" in capsys.readouterr().err
        assert await lobby("emergency", "end", "--db", str(server.db)) == 0
        assert "ended after" in capsys.readouterr().out
        assert (await (await server.staff("super")).state()).office.emergency is None
        assert await lobby("emergency", "start", "--kind", "flood", "--db", str(server.db)) == 2
        assert "one of evacuate, shelter, drill" in capsys.readouterr().err
        await server.stop()
        assert not path.exists(), "a stopped server removes its control file"
    assert await lobby("emergency", "end", "--db", str(server.db)) == 2
    assert "no server is running on this database" in capsys.readouterr().err


async def test_the_control_token_does_nothing_but_the_emergency_mode(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    async with running_server(tmp_path, office_config) as server:
        server.control = True
        await server.restart()
        token = json.loads(control_path(server.db).read_text())["token"]
        control = server.client(token)
        with pytest.raises(ApiError) as refused:
            await control.state()
        assert refused.value.status == 403
        with pytest.raises(ApiError) as refused:
            await control.check_in(
                p.CheckInRequest(service="permits", client_request_id="abcdefgh")
            )
        assert refused.value.status == 403


def test_without_a_server_the_command_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emergency", "end", "--db", str(tmp_path / "lobby.db")]) == 2
    assert "lobby.db.control is missing" in capsys.readouterr().err
