"""The local control file: how ``lobby emergency start|end --db DB`` finds and authenticates to
the server running that database, with no password typed in a hurry.

A serving server writes, beside its SQLite file (``lobby.db`` -> ``lobby.db.control``; for a
PostgreSQL office under ``var/``, named by the database), a small JSON file readable by its own
user only (mode 0600): the address it serves at and a random token made at this start. Whoever
can read that file could already read the whole database, so the token grants nothing more; it
grants less, in fact: the token's role (``control``) may only start and end the emergency mode.
The server removes the file when it stops; a file left by a killed server names a token no
running server accepts, and the command says the server is not running.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

CONTROL_ROLE = "control"
"""The role of the control token: the emergency commands accept it, nothing else does."""


class ControlError(Exception):
    """No running server to talk to for this database; the message says why, in one line."""


@dataclass(frozen=True)
class Control:
    url: str
    token: str
    pid: int


def control_path(db: str | Path, *, postgres: bool = False, name: str = "") -> Path:
    """Where the control file of the server on ``db`` lives (``name``: how a PostgreSQL
    database is shown, without its password)."""
    if postgres:
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        return Path("var") / f"lobby-{digest}.control"
    path = Path(db)
    return path.with_name(path.name + ".control")


def operator() -> str:
    """Who the log names for a command through the control file: the account the server runs
    as (only it can read the file), at the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "operator"
    return f"{user} (command line)"


def write_control(path: Path, control: Control) -> None:
    """Write the file readable by this user only, replacing any earlier one in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({"url": control.url, "token": control.token, "pid": control.pid}, file)
    os.replace(partial, path)


def remove_control(path: Path, token: str) -> None:
    """Remove the file at a stop, if it is still this server's (not a newer one's)."""
    with contextlib.suppress(OSError, ControlError):
        if read_control(path).token == token:
            path.unlink()


def read_control(path: Path) -> Control:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Control(str(raw["url"]), str(raw["token"]), int(raw["pid"]))
    except FileNotFoundError:
        raise ControlError(
            f"no server is running on this database ({path} is missing; it is written by"
            " `lobby serve` while it runs)"
        ) from None
    except PermissionError:
        raise ControlError(f"cannot read {path}: run this as the user the server runs as") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ControlError(f"{path} is not a control file ({error})") from None
