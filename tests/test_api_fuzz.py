"""The API against its own OpenAPI document, fuzzed with schemathesis: every operation, with a
real token of every role, a bounded number of examples each.

No answer is a 5xx, every status is one the document lists, every body fits the documented
schema, and a refused request changed nothing (the log's seq did not move).

The server runs in its own process (``lobby serve``, as an office runs it), since the
schemathesis client is synchronous.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import CONFIG_PATH, STAFF, free_port, seed_accounts

LOBBY = [sys.executable, "-m", "lobby.cli"]
EXAMPLES = 6
"""Examples per operation and role (valid and invalid ones mixed): some 900 requests, about
half a minute."""
HARNESS_OPERATIONS = {"logout", "revoke_device"}
"""Left out: they would end the very sessions and device tokens the fuzzing signs in with
(each has its own tests)."""
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@dataclass
class Served:
    url: str
    tokens: dict[str, str]  # role -> a real token of that role
    http: requests.Session

    def seq(self) -> int:
        answer = self.http.get(
            f"{self.url}/api/state", headers={"Authorization": f"Bearer {self.tokens['admin']}"}
        )
        return int(answer.json()["seq"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("fuzz")
    db = folder / "lobby.db"
    devices = seed_accounts(db)
    port = free_port()
    process = subprocess.Popen(
        [*LOBBY, "serve", "--config", str(CONFIG_PATH), "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        http = requests.Session()
        tokens = dict(devices)
        for role, name in (("clerk", "clerk"), ("supervisor", "super"), ("admin", "super")):
            login = http.post(f"{url}/api/login", json={"name": name, "password": STAFF[name]})
            tokens[role] = login.json()["token"]
        yield Served(url, tokens, http)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    log = (folder / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def operations() -> list[schemathesis.APIOperation]:
    from server.openapi import build_openapi

    schema = schemathesis.openapi.from_dict(build_openapi("Test City Hall"))
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if op.definition.raw["operationId"] not in HARNESS_OPERATIONS]


def roles_for(operation: schemathesis.APIOperation) -> list[str | None]:
    """Anyone for an open operation; every role, and nobody, for a guarded one."""
    if not operation.definition.raw.get("security"):
        return [None]
    return [None, "kiosk", "display", "clerk", "supervisor", "admin"]


@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.label)
def test_every_answer_is_documented_and_no_refusal_changes_anything(
    served: Served, operation: schemathesis.APIOperation
) -> None:
    for role in roles_for(operation):
        exercise(served, operation, role)


def exercise(served: Served, operation: schemathesis.APIOperation, role: str | None) -> None:
    """``EXAMPLES`` requests to ``operation`` as ``role``, valid and invalid ones mixed."""
    headers = {"Authorization": f"Bearer {served.tokens[role]}"} if role else {}
    modes = st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE])

    @given(case=modes.flatmap(operation.as_strategy))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def one(case: schemathesis.Case) -> None:
        before = served.seq()
        response = case.call(base_url=served.url, session=served.http, headers=headers)
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            assert served.seq() == before, (
                f"{case.method} {case.formatted_path} as {role}: refused"
                f" ({response.status_code} {json.loads(response.content or b'{}')})"
                " but the log moved"
            )

    one()


def test_the_fuzzing_reaches_every_operation_but_the_harness_ones() -> None:
    from server.views import ROUTES

    fuzzed = {op.definition.raw["operationId"] for op in operations()}
    declared = {route.handler.__name__ for route in ROUTES}
    assert declared - fuzzed == HARNESS_OPERATIONS
