"""``lobby serve --tls-cert --tls-key``: the API and the stream over HTTPS and WSS; files that
do not fit are one line."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import trustme

from tests.conftest import CONFIG_PATH, free_port, seed_accounts

LOBBY = [sys.executable, "-m", "lobby.cli"]


def serve(db: Path, port: int, *tls: str) -> subprocess.Popen[bytes]:
    command = ["serve", "--config", str(CONFIG_PATH), "--db", str(db), "--port", str(port)]
    return subprocess.Popen(
        [*LOBBY, *command, *tls], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def test_api_and_stream_over_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    db = tmp_path / "lobby.db"
    tokens = seed_accounts(db)
    port = free_port()
    process = serve(db, port, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as http:
            for _ in range(200):
                try:
                    async with http.get(f"https://127.0.0.1:{port}/healthz") as answer:
                        assert answer.status == 200
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the server did not start")
            headers = {"Authorization": f"Bearer {tokens['display']}"}
            async with http.ws_connect(f"wss://127.0.0.1:{port}/ws", headers=headers) as ws:
                first = await ws.receive_json(timeout=5)
                assert first["type"] == "snapshot"
            async with aiohttp.ClientSession() as plain:  # the system's trust: not ours
                try:
                    await plain.get(f"https://127.0.0.1:{port}/healthz")
                    raise AssertionError("a certificate nobody trusts was accepted")
                except aiohttp.ClientConnectorCertificateError:
                    pass
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_tls_files_that_do_not_fit_are_one_line(tmp_path: Path) -> None:
    db = tmp_path / "lobby.db"
    seed_accounts(db)
    ca = trustme.CA()
    cert, other_key = tmp_path / "cert.pem", tmp_path / "other-key.pem"
    ca.issue_cert("127.0.0.1").cert_chain_pems[0].write_to_path(str(cert))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(other_key))
    for tls, says in (
        (["--tls-cert", str(cert)], "--tls-cert and --tls-key go together"),
        (["--tls-cert", str(cert), "--tls-key", str(tmp_path / "no.pem")], "no such file"),
        (["--tls-cert", str(cert), "--tls-key", str(other_key)], "not a PEM certificate chain"),
    ):
        process = serve(db, free_port(), *tls)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 2
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1 and says in lines[0], lines
