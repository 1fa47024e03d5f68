"""The files in deploy/ as the tools that will read them read them: systemd's own checker on
every unit, nginx's and Caddy's on the proxy configurations, and every setting they pass to
``lobby`` accepted by its command line. Each check is skipped where its tool is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lobby.cli import build_parser

DEPLOY = Path(__file__).parent.parent / "deploy"
UNITS = {
    "lobby.service": "lobby.service",
    "lobby-backup.service": "lobby-backup.service",
    "lobby-backup.timer": "lobby-backup.timer",
    "lobby-kiosk@.service": "lobby-kiosk@tty1.service",
    "lobby-board@.service": "lobby-board@tty2.service",
    "lobby-display@.service": "lobby-display@tty7.service",
}
LOBBY_BIN = Path(sys.executable).parent / "lobby"


def needs(tool: str) -> str:
    found = shutil.which(tool) or next(
        (str(p) for p in (Path("/usr/sbin") / tool, Path("/sbin") / tool) if p.exists()), None
    )
    if found is None:
        pytest.skip(f"{tool} is not installed")
    return found


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subject = ["-subj", "/CN=lobby.example.lan", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        [needs("openssl"), *request, *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


def with_certificate(name: str, folder: Path) -> str:
    """A proxy configuration from deploy/ pointing at a fresh self-signed pair in ``folder``."""
    cert, key = self_signed(folder)
    text = (DEPLOY / name).read_text().replace("/etc/lobby/tls/fullchain.pem", str(cert))
    return text.replace("/etc/lobby/tls/privkey.pem", str(key))


def test_every_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = needs("systemd-analyze")
    if not LOBBY_BIN.exists():
        pytest.skip("lobby is not installed beside this Python")
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("/opt/lobby/.venv/bin/lobby", str(LOBBY_BIN))
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [analyze, "verify", *(f"./{instance}" for instance in UNITS.values())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    # unknown keys are only warnings (exit status 0): any output at all is a defect
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_units_run_lobby_with_arguments_it_accepts() -> None:
    parser = build_parser()
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("\\\n", " ")
        for line in re.findall(r"^ExecStart=/opt/lobby/\.venv/bin/lobby (.*)$", text, re.M):
            words = [re.sub(r"\$\{\w+\}", "x", word) for word in line.split()]
            if words[0] == "kiosk":
                words[words.index("--printer") + 1] = "dummy"
            parser.parse_args(words)  # exits (SystemExit) on an unknown option


def test_nginx_accepts_the_proxy_configuration(tmp_path: Path) -> None:
    nginx = needs("nginx")
    (tmp_path / "lobby.conf").write_text(with_certificate("nginx-lobby.conf", tmp_path))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n include {tmp_path}/lobby.conf;\n}}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    caddy = needs("caddy")
    (tmp_path / "Caddyfile").write_text(with_certificate("Caddyfile", tmp_path))
    done = subprocess.run(
        [caddy, "validate", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_the_printer_rule_gives_the_kiosks_group_each_printer() -> None:
    rules = [
        line
        for line in (DEPLOY / "60-lobby-printer.rules").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    kiosk = (DEPLOY / "lobby-kiosk@.service").read_text()
    assert "SupplementaryGroups=lobby-printer" in kiosk
    for rule in rules:
        assert 'GROUP="lobby-printer"' in rule and 'MODE="0660"' in rule, rule
        pairs = [part.strip() for part in rule.split(",")]
        assert all(re.fullmatch(r'[A-Z_]+(\{\w+\})?(==|\+?=)"[^"]*"', p) for p in pairs), rule
