"""The layer rules at run time: the import contracts in pyproject.toml read the source, this
checks what a real interpreter loads (a lazy import made eager would show up here first)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import importlib, sys
importlib.import_module(sys.argv[1])
print("\\n".join(sorted(m for m in sys.modules if m == "server" or m.startswith("server."))))
"""


@pytest.mark.parametrize("module", ["kiosk.app", "counter.app", "display.board", "lobby.cli"])
def test_starting_a_client_loads_no_server_module(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == [], f"{module} loaded {result.stdout.split()}"
