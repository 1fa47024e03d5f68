"""The command line and the configuration file: plain errors, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.auth import hash_token, verify_password
from server.config import ConfigError, load_config, parse_config
from server.store.sqlite import SqliteStore
from tests.conftest import CONFIG_PATH

LOBBY = [sys.executable, "-m", "lobby.cli"]
GOOD = CONFIG_PATH.read_text()


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOBBY, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_demo_and_test_offices_load() -> None:
    demo = load_config(Path(__file__).parent.parent / "examples" / "demo.toml")
    assert len(demo.services) == 3 and len(demo.counters) == 4
    assert demo.languages[0] == "en"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('prefix = "P"', 'prefix = "p1"'), "services[0].prefix"),
        (('prefix = "B"', 'prefix = "P"'), "services[1].prefix: prefix 'P' is used"),
        (("target_wait_min = 10", 'target_wait_min = "ten"'), "services[0].target_wait_min"),
        (('hours = "00:00-24:00"', 'hours = "9 to 5"'), "services[0].hours"),
        (('timezone = "America/Chicago"', 'timezone = "Mars/Olympus"'), "office.timezone"),
        (('services = ["permits", "billing"]', 'services = ["passports"]'), "counters[0].services"),
        (('name = "Test City Hall"', 'nmae = "Test City Hall"'), "office"),
        (("[office]", "[office"), "not valid TOML"),
    ],
)
def test_a_wrong_config_names_the_field(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(GOOD.replace(*change, 1), "office.toml")
    assert expected in str(error.value)


def test_serve_with_a_wrong_config_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('prefix = "P"', "prefix = 5", 1))
    result = run("serve", "--config", str(bad), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2
    assert "services[0].prefix" in result.stderr and "Traceback" not in result.stderr
    missing = run("serve", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_staff_add_reads_the_password_from_stdin_and_stores_a_hash(tmp_path: Path) -> None:
    db = tmp_path / "lobby.db"
    result = run(
        "staff", "add", "Dana", "--role", "supervisor", "--db", str(db), stdin="s3cret-of-dana!\n"
    )
    assert result.returncode == 0, result.stderr
    with SqliteStore(db).offline() as accounts:
        found = accounts.staff_password("dana")
    assert found is not None
    account, stored = found
    assert account.role == "supervisor" and stored.startswith("$argon2")
    assert "s3cret" not in stored and verify_password(stored, "s3cret-of-dana!")


def test_device_add_prints_the_token_once_on_its_last_line(tmp_path: Path) -> None:
    db = tmp_path / "lobby.db"
    result = run("device", "add", "lobby-tv", "--role", "display", "--db", str(db))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 32
    with SqliteStore(db).offline() as accounts:
        account = accounts.account_for_token(hash_token(token))
    assert account is not None and account.role == "display"
    for file in db.parent.glob(db.name + "*"):  # the database and any write-ahead log
        assert token.encode() not in file.read_bytes(), "only the token's hash is stored"


def test_openapi_lists_every_endpoint_with_its_schema() -> None:
    from server.openapi import build_openapi

    spec = build_openapi("Test")
    paths = spec["paths"]
    for path in (
        "/api/tickets",
        "/api/login",
        "/api/counters/{counter_id}/call-next",
        "/api/tickets/{ticket_id}/complete",
        "/api/reports/summary",
        "/healthz",
    ):
        assert path in paths
    check_in = paths["/api/tickets"]["post"]["requestBody"]["content"]["application/json"]
    assert check_in["schema"] == {"$ref": "#/components/schemas/CheckInRequest"}
    schema = spec["components"]["schemas"]["CheckInRequest"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"service", "client_request_id"}


def test_openapi_describes_the_stream_messages_and_the_storage_failure() -> None:
    from server.openapi import build_openapi

    spec = build_openapi("Test")
    stream = spec["paths"]["/ws"]["get"]["responses"]["101"]["content"]["application/json"]
    assert stream["schema"]["oneOf"] == [
        {"$ref": "#/components/schemas/StreamSnapshot"},
        {"$ref": "#/components/schemas/StreamPatch"},
    ]
    patch = spec["components"]["schemas"]["StreamPatch"]
    assert {"services", "counters", "tickets", "calls", "announce"} <= set(patch["properties"])
    assert "503" in spec["paths"]["/api/tickets"]["post"]["responses"]
    assert "503" in spec["paths"]["/healthz"]["get"]["responses"]


def test_openapi_types_every_path_parameter_and_documents_a_retried_check_in() -> None:
    from server.openapi import build_openapi

    spec = build_openapi("Test")
    start = spec["paths"]["/api/tickets/{ticket_id}/start"]["post"]
    (param,) = start["parameters"]
    assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 10**12}
    assert "404" in start["responses"]
    (counter,) = spec["paths"]["/api/counters/{counter_id}/open"]["post"]["parameters"]
    assert counter["schema"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,31}$"
    responses = spec["paths"]["/api/tickets"]["post"]["responses"]
    assert {"201", "200"} <= set(responses)
    assert responses["200"]["content"] == responses["201"]["content"]


def test_a_device_token_comes_from_the_environment_so_ps_never_shows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lobby.cli import build_parser, device_token

    parser = build_parser()
    monkeypatch.delenv("LOBBY_TOKEN", raising=False)
    args = parser.parse_args(["kiosk", "--server", "http://127.0.0.1:8080"])
    with pytest.raises(SystemExit, match="give --token or set LOBBY_TOKEN"):
        device_token(args)
    monkeypatch.setenv("LOBBY_TOKEN", " from-the-unit's-file\n")
    args = parser.parse_args(["display", "--server", "http://127.0.0.1:8080"])
    device_token(args)
    assert args.token == "from-the-unit's-file"
    args = parser.parse_args(["kiosk", "--server", "http://x", "--token", "given"])
    device_token(args)
    assert args.token == "given", "a token on the command line still wins"


def test_the_command_line_loads_no_engine_before_a_command_needs_it() -> None:
    """``lobby kiosk`` on a small computer starts the kiosk, not the engine: building the
    parser (every command's options) imports neither the engine nor the office config."""
    probe = (
        "import sys; from lobby.cli import build_parser; build_parser()"
        ".parse_args(['kiosk', '--server', 'http://127.0.0.1:8080', '--token', 'x']);"
        " print(' '.join(sorted(m for m in sys.modules if m.startswith('server.'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = done.stdout.split()
    assert "server.engine" not in loaded and "server.config" not in loaded, loaded


def test_a_simulated_rule_is_checked_against_the_rules_there_are() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lobby.cli", "simulate", "--rule", "loudest"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid choice: 'loudest' (choose from 'first-come', 'longest-wait')" in done.stderr
