"""``lobby doctor``: is this office working, end to end, and if not, what to fix.

Two halves. The server answers ``GET /api/doctor`` with what only it can know, measured now:
its storage took a durable commit (the same probe it uses to recover from a full disk), where
its database lives and how much room is left there, which screens are connected, every kiosk
printer's last reported status (as the supervisor page shows it), its clock in the office's
time zone, and the office languages it can say calls in. ``lobby doctor`` (run on the office's
box, or anywhere that reaches the server) asks for it, adds what it checks for itself (its own
clock against the server's; with ``--db``, the database file as this machine sees it) and
prints one line per check, with what to do about each that is not right. Exit status 1 when
something must be fixed, 0 when only warnings remain.

Who may ask: a supervisor or an admin, or any request from the box itself when
``[security] metrics_from_loopback = true`` (the same rule as ``/metrics``). Nothing private
is in the answer: devices by name, counts, statuses.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec
from aiohttp import web

from lobby.client import ApiError, LobbyClient, ServerUnreachable
from server.display_page import spoken_languages
from server.keys import OFFICE, SPEECH
from server.metrics import require_monitoring
from server.office import Office
from server.store.port import StorageFailed
from server.store.sqlite_checks import Unreadable, journal_mode, quick_check

FAIL_FREE_BYTES = 512 << 20
WARN_FREE_BYTES = 2 << 30
"""Below these, free room beside the database is a problem (a busy year is a few hundred MB
of log; backups beside it need as much again), then a warning."""
CLOCK_SKEW_SEC = 5.0
"""Kiosks stamp arrivals with their own clock: more apart than this moves waits visibly."""
VOLATILE_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "squashfs"})
"""Filesystems whose files do not outlive a reboot (or cannot be written)."""

Level = Literal["ok", "warn", "fail"]


# ------------------------------------------------------------------ the server's half


class DatabaseFacts(msgspec.Struct):
    where: str
    filesystem: str = ""
    free_bytes: int | None = None
    total_bytes: int | None = None
    journal_mode: str = ""


class ScreenFacts(msgspec.Struct):
    role: str
    name: str


class PrinterFacts(msgspec.Struct):
    device: str
    status: str
    detail: str = ""


class DoctorFacts(msgspec.Struct):
    """What ``GET /api/doctor`` answers."""

    office: str
    timezone: str
    languages: list[str]
    now: str
    storage_ok: bool
    storage_problem: str
    database: DatabaseFacts
    screens: list[ScreenFacts]
    devices: list[ScreenFacts]
    printers: list[PrinterFacts]
    spoken: list[str]
    espeak: bool


async def doctor_facts(request: web.Request) -> web.Response:
    require_monitoring(request)
    facts = await gather_facts(request.app)
    return web.json_response(body=msgspec.json.encode(facts), headers={"Cache-Control": "no-store"})


DATABASE: web.AppKey[Path | None] = web.AppKey("doctor_database")
"""The SQLite file the server serves (None: PostgreSQL)."""


async def gather_facts(app: web.Application) -> DoctorFacts:
    office: Office = app[OFFICE]
    config = office.config
    problem = ""
    try:
        await office.store.probe()  # a real commit through the server's own writer
    except StorageFailed as failed:
        problem = failed.message
    speech = app[SPEECH]
    published = office.publisher.published["supervisor"]
    return DoctorFacts(
        office=config.name,
        timezone=config.timezone,
        languages=list(config.languages),
        now=office.now().isoformat(),
        storage_ok=not problem,
        storage_problem=problem,
        database=await asyncio.to_thread(database_facts, app[DATABASE]),
        screens=[
            ScreenFacts(client.who.role, client.who.name)
            for client in office.hub.clients
            if client.who is not None
        ],
        devices=[ScreenFacts(d.role, d.name) for d in await office.store.devices()],
        printers=[
            PrinterFacts(view.device, view.status, view.detail)
            for view in published.printers.values()
        ],
        spoken=await spoken_languages(config, speech),
        espeak=speech.available,
    )


def database_facts(db: Path | None) -> DatabaseFacts:
    if db is None:
        return DatabaseFacts(where="postgresql")
    path = db.resolve()
    usage = shutil.disk_usage(path.parent)
    try:
        journal = journal_mode(path)
    except Unreadable as exc:
        journal = f"unreadable ({exc})"
    return DatabaseFacts(
        where=str(path),
        filesystem=filesystem_of(path),
        free_bytes=usage.free,
        total_bytes=usage.total,
        journal_mode=journal,
    )


def filesystem_of(path: Path, mounts: Path = Path("/proc/mounts")) -> str:
    """The type of the filesystem ``path`` is on (the longest mount point above it)."""
    best, kind = "", ""
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def add_doctor(app: web.Application, db: Path | None) -> None:
    """``db``: the SQLite file served (None for PostgreSQL)."""
    app[DATABASE] = db
    app.router.add_get("/api/doctor", doctor_facts)


# ------------------------------------------------------------------ the checks


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    said: str
    fix: str = ""


def judge(facts: DoctorFacts, asked_at: datetime, answered_at: datetime) -> Iterator[Finding]:
    """Every check on what the server said, in the order an operator would go through them."""
    yield from _storage(facts)
    yield from _disk(facts.database)
    yield from _screens(facts)
    yield from _printers(facts)
    yield from _clock(facts, asked_at, answered_at)
    yield from _speech(facts)


def _storage(facts: DoctorFacts) -> Iterator[Finding]:
    db = facts.database
    if not facts.storage_ok:
        yield Finding(
            "fail",
            "database",
            f"the server's database refuses commits: {facts.storage_problem}",
            "free space where the database lives, or fix its disk; the server recovers by"
            " itself (journalctl -u lobby says when)",
        )
    elif db.filesystem in VOLATILE_FILESYSTEMS:
        yield Finding(
            "fail",
            "database",
            f"{db.where} is on {db.filesystem}: it is lost at the next reboot",
            "move it to a disk (/var/lib/lobby/lobby.db): stop the server, lobby backup, lobby"
            " restore there, point --db at it",
        )
    elif db.where != "postgresql" and db.journal_mode.lower() != "wal":
        yield Finding(
            "fail",
            "database",
            f"{db.where} is in journal mode {db.journal_mode}, not WAL",
            "restart the server: it sets WAL when it opens the database",
        )
    else:
        on = f" on {db.filesystem}" if db.filesystem else ""
        yield Finding("ok", "database", f"takes durable commits ({db.where}{on})")


def _disk(db: DatabaseFacts) -> Iterator[Finding]:
    if db.free_bytes is None or db.total_bytes is None:
        return
    free = _size(db.free_bytes)
    share = db.free_bytes / db.total_bytes if db.total_bytes else 0.0
    where = Path(db.where).parent
    if db.free_bytes < FAIL_FREE_BYTES:
        yield Finding(
            "fail",
            "disk",
            f"only {free} free where the database lives ({where})",
            "free space there: old backups (/var/backups/lobby), journalctl --vacuum-size=200M",
        )
    elif db.free_bytes < WARN_FREE_BYTES:
        yield Finding(
            "warn", "disk", f"{free} free beside the database ({share:.0%})", "free space soon"
        )
    else:
        yield Finding("ok", "disk", f"{free} free beside the database ({share:.0%})")


def _screens(facts: DoctorFacts) -> Iterator[Finding]:
    connected = {s.name for s in facts.screens if s.role == "display"}
    displays = sorted(d.name for d in facts.devices if d.role == "display")
    away = [name for name in displays if name not in connected]
    if not connected:
        yield Finding(
            "fail",
            "displays",
            "no lobby display is connected: calls are shown and said nowhere",
            "switch the TV on and check its browser (systemctl status 'lobby-display@*' on its"
            " box); a new screen needs a token: lobby device add NAME --role display",
        )
    elif away:
        yield Finding(
            "warn",
            "displays",
            f"{len(connected)} connected; not connected: {', '.join(away)}",
            "check those screens, or revoke the ones no longer used (lobby device revoke NAME)",
        )
    else:
        yield Finding("ok", "displays", f"connected: {', '.join(sorted(connected))}")
    kiosks = {s.name for s in facts.screens if s.role == "kiosk"}
    if kiosks:
        yield Finding("ok", "kiosks", f"connected: {', '.join(sorted(kiosks))}")
    elif any(d.role == "kiosk" for d in facts.devices):
        yield Finding(
            "warn",
            "kiosks",
            "no kiosk is connected: visitors cannot check in by themselves",
            "check the kiosk (systemctl status 'lobby-kiosk@*' on its box)",
        )


PRINTER_FIXES = {
    "paper_near_end": "put a new paper roll beside it; change it when it runs out",
    "paper_out": "load a paper roll (the kiosk shows tickets on screen meanwhile)",
    "cover_open": "close the printer's cover",
    "offline": "check the printer's power and USB cable; on the kiosk, ls -l /dev/usb/lp*"
    " and the udev rule in deploy/ (docs/deployment.md)",
    "error": "switch the printer off and on; the kiosk's journal says more"
    " (journalctl -u 'lobby-kiosk@*')",
    "unknown": "the printer has not answered yet; check its cable and the kiosk's --printer",
}


def _printers(facts: DoctorFacts) -> Iterator[Finding]:
    reported = {printer.device for printer in facts.printers}
    for printer in sorted(facts.printers, key=lambda p: p.device):
        detail = f" ({printer.detail})" if printer.detail else ""
        if printer.status == "ok":
            yield Finding("ok", "printer", f"{printer.device}: answering, paper ok")
            continue
        level: Level = "warn" if printer.status == "paper_near_end" else "fail"
        said = f"{printer.device}: {printer.status.replace('_', ' ')}{detail}"
        yield Finding(level, "printer", said, PRINTER_FIXES.get(printer.status, ""))
    for kiosk in sorted(d.name for d in facts.devices if d.role == "kiosk"):
        if kiosk not in reported:
            yield Finding(
                "warn",
                "printer",
                f"{kiosk}: no printer status reported",
                "start the kiosk with its printer (--printer usb:... ); docs/deployment.md",
            )


def _clock(facts: DoctorFacts, asked_at: datetime, answered_at: datetime) -> Iterator[Finding]:
    server_now = datetime.fromisoformat(facts.now)
    zone = ZoneInfo(facts.timezone)
    expected = server_now.astimezone(zone).utcoffset()
    if server_now.utcoffset() != expected:
        yield Finding(
            "fail",
            "clock",
            f"the server's time {facts.now} is not at {facts.timezone}'s offset here ({expected})",
            "update the time zone data on both machines: apt install --only-upgrade tzdata",
        )
        return
    # The server read its clock between the question and the answer.
    lag = answered_at - asked_at
    middle = asked_at + lag / 2
    skew = abs((server_now - middle).total_seconds())
    slack = lag.total_seconds() / 2 + CLOCK_SKEW_SEC
    local = f"{server_now:%H:%M:%S} {facts.timezone}"
    if skew > slack:
        yield Finding(
            "fail",
            "clock",
            f"the server's clock ({local}) is {skew:.0f} s from this machine's",
            "turn on time sync on both: timedatectl set-ntp true (systemd-timesyncd)",
        )
    else:
        yield Finding("ok", "clock", f"{local}, in step with this machine")
    system = _system_zone()
    if system and system != facts.timezone:
        yield Finding(
            "warn",
            "clock",
            f"this machine's time zone is {system}, the office's {facts.timezone}: the"
            " nightly backup and the journal's times follow the machine's",
            f"sudo timedatectl set-timezone {facts.timezone}",
        )


def _system_zone() -> str:
    """The machine's time zone name, from /etc/localtime (or $TZ)."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return ""
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""


def _speech(facts: DoctorFacts) -> Iterator[Finding]:
    silent = [lang for lang in facts.languages if lang not in facts.spoken]
    if not facts.espeak and not facts.spoken:
        yield Finding(
            "fail",
            "speech",
            "espeak-ng is not installed on the server: calls only chime",
            "sudo apt install espeak-ng, then restart the server",
        )
    elif silent:
        yield Finding(
            "warn",
            "speech",
            f"said in {', '.join(facts.spoken) or 'no language'}; no voice for"
            f" {', '.join(silent)} (shown, not said)",
            "record clips for those languages ([office] speech_clips, docs/display.md)",
        )
    else:
        yield Finding("ok", "speech", f"calls said in {', '.join(facts.spoken)}")


def check_database_file(db: Path, served: str) -> Iterator[Finding]:
    """``--db``: the file as this machine sees it, and that its folder takes a durable write
    (a file written, flushed to disk and removed: the database itself is never written)."""
    if not db.exists():
        yield Finding("fail", "db file", f"no database at {db}", "check --db and the server's")
        return
    if served not in ("postgresql", str(db.resolve())):
        yield Finding(
            "warn",
            "db file",
            f"the server serves {served}, not {db.resolve()}",
            "name the server's own database with --db (or check the unit's --db)",
        )
    try:
        verdict = quick_check(db)
    except Unreadable as exc:
        yield Finding("fail", "db file", f"{db} cannot be read: {exc}", "restore a backup")
        return
    if verdict != "ok":
        yield Finding(
            "fail", "db file", f"{db} is damaged: {verdict}", "lobby restore a verified backup"
        )
        return
    try:
        with tempfile.NamedTemporaryFile(dir=db.parent, prefix=".lobby-doctor-") as probe:
            probe.write(b"durable?")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        yield Finding(
            "fail",
            "db file",
            f"cannot write beside {db}: {exc.strerror}",
            f"the folder must be writable by the server's user: chown lobby: {db.parent}",
        )
        return
    yield Finding("ok", "db file", f"{db} intact (quick_check ok), its folder takes writes")


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return f"{count} bytes"


# ------------------------------------------------------------------ the command


async def examine(
    server: str, db: Path | None = None, staff: str | None = None, password: str = ""
) -> list[Finding]:
    """Every finding about the office at ``server`` (signed in as ``staff`` when given)."""
    async with LobbyClient(server, timeout=15) as client:
        try:
            await client.request("GET", "/healthz")
        except ServerUnreachable:
            return [
                Finding(
                    "fail",
                    "server",
                    f"no answer from {server}",
                    "start it: sudo systemctl start lobby; why it stopped: journalctl -u lobby",
                )
            ]
        except ApiError as refused:
            if refused.status != 503:
                raise
        try:
            if staff:
                await client.login(staff, password)
            asked = datetime.now(UTC)
            raw = await client.request("GET", "/api/doctor")
            answered = datetime.now(UTC)
        except ApiError as refused:
            fix = "sign in as a supervisor: lobby doctor --staff NAME (password on stdin)"
            return [Finding("fail", "sign-in", refused.message, fix)]
    facts = msgspec.convert(raw, DoctorFacts)
    findings = [Finding("ok", "server", f"{facts.office} answers at {server}")]
    findings += judge(facts, asked, answered)
    if db is not None:
        findings += check_database_file(db, facts.database.where)
    return findings


WIDTH = 100
MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def printout(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        head = f"{MARKS[finding.level]}  {finding.check:<9} "
        lines += textwrap.wrap(
            finding.said, WIDTH, initial_indent=head, subsequent_indent=" " * len(head)
        )
        if finding.fix and finding.level != "ok":
            lines += textwrap.wrap(
                f"fix: {finding.fix}", WIDTH, initial_indent=" " * 15, subsequent_indent=" " * 20
            )
    failed = sum(1 for f in findings if f.level == "fail")
    warned = sum(1 for f in findings if f.level == "warn")
    if failed:
        lines.append(f"{failed} to fix, {warned} to look at.")
    elif warned:
        lines.append(f"Working; {warned} to look at.")
    else:
        lines.append("Everything checked is working.")
    return "\n".join(lines) + "\n"


def exit_status(findings: list[Finding]) -> int:
    return 1 if any(f.level == "fail" for f in findings) else 0


def main(server: str, db: str | None, staff: str | None, password: str) -> int:
    """``lobby doctor``: the findings printed; 1 when something must be fixed."""
    findings = asyncio.run(examine(server, Path(db) if db else None, staff, password))
    print(printout(findings), end="")
    return exit_status(findings)
