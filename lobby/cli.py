"""The ``lobby`` command: serve, manage staff and devices, and start the terminal apps.

This module is the composition root, the one place allowed to import both the server and the
clients; it imports each lazily so ``lobby kiosk`` never loads aiohttp's server side.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.config import OfficeConfig
    from server.store.port import Accounts

DEFAULT_DB = "var/lobby.db"


def _fail(message: str) -> int:
    print(f"lobby: {message}", file=sys.stderr)
    return 2


class Refused(Exception):
    """A command that cannot go on; its message is the one line the operator reads."""


@contextlib.contextmanager
def _accounts(db: str | Path) -> Iterator[Accounts]:
    """The database's accounts for a command; a missing, damaged or foreign database is one
    line, never a traceback (a first ``lobby staff add`` creates the database)."""
    from server.app import store_for
    from server.store.port import UnusableStore

    try:
        with store_for(db).offline() as accounts:
            yield accounts
    except UnusableStore as refused:
        raise Refused(str(refused)) from None


def _read_password(prompt: str = "Password: ") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _staff_password(name: str) -> str:
    """A staff member's password for a command that signs in: asked on a terminal, else the
    first line of stdin."""
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {name}: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from server.app import HEADER_TIMEOUT_SEC, create_app, raise_open_files_limit, shown
    from server.config import ConfigError, load_config
    from server.heap import keep_collector_off_the_state
    from server.logs import configure as configure_logging
    from server.store.port import UnusableStore

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    try:
        tls = _tls_context(args.tls_cert, args.tls_key)
    except Refused as refused:
        return _fail(str(refused))
    configure_logging(args.log_format)
    base = f"{'https' if tls else 'http'}://{args.host}:{args.port}"
    open_files = raise_open_files_limit()
    if args.log_format == "json":  # every line a JSON object: the banner is one line too
        logging.getLogger("lobby.server").info(
            "serving %s at %s",
            config.name,
            base,
            extra={"url": base, "db": shown(args.db), "open_files": open_files},
        )
    else:
        _print_banner(config, Path(args.db), base, open_files)
    app = create_app(config, args.db, init=args.init, control_url=_local_url(args, tls is not None))
    keep_collector_off_the_state(app)
    try:
        web.run_app(
            app,
            host=args.host,
            port=args.port,
            print=None,
            keepalive_timeout=HEADER_TIMEOUT_SEC,
            ssl_context=tls,
            access_log=None,  # it writes whole paths, tokens included: server/logs.py's lines
        )
    except UnusableStore as refused:
        return _fail(f"not starting: {refused}")
    return 0


def _local_url(args: argparse.Namespace, tls: bool) -> str:
    """Where a command on this machine reaches the server (``lobby emergency``)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(args.host, args.host)
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{args.port}"


def cmd_emergency(args: argparse.Namespace) -> int:
    """Start or end the emergency mode through the server running ``--db``: it finds the
    server and its token in the control file the server keeps beside the database."""
    import asyncio

    from lobby import protocol as p
    from lobby.client import ApiError, LobbyClient, ServerUnreachable
    from server.app import shown
    from server.control import ControlError, control_path, read_control
    from server.store.postgres import is_postgres

    path = control_path(args.db, postgres=is_postgres(args.db), name=shown(args.db))
    try:
        control = read_control(path)
    except ControlError as missing:
        return _fail(str(missing))

    async def run() -> str:
        async with LobbyClient(control.url, control.token) as client:
            if args.action == "start":
                body = p.EmergencyStartRequest(kind=args.kind, request_id=args.request_id)
                view = await client.request("POST", "/api/emergency", body, p.EmergencyView)
                what = "drill" if view.drill else "emergency"
                return (
                    f"{what} {view.id} ({view.kind}) started at {view.started_at}: every screen"
                    f" shows it; end it with `lobby emergency end --db {args.db}`"
                )
            ended = await client.request("POST", "/api/emergency/end", None, p.EmergencyEnded)
            return f"emergency {ended.ended} ended after {ended.minutes} min; check-in resumes"

    try:
        print(asyncio.run(run()))
    except ApiError as refused:
        return _fail(refused.message)
    except ServerUnreachable:
        return _fail(f"no server answers at {control.url} (named in {path}); is it running?")
    return 0


def _tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """The server's TLS settings from a certificate chain and its key (PEM files), or None
    for plain HTTP; a file that is missing or does not fit is one line, never a traceback."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise Refused("--tls-cert and --tls-key go together: give both PEM files")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as missing:
        raise Refused(f"not starting: no such file {missing.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise Refused(
            f"not starting: {cert} and {key} are not a PEM certificate chain and its key ({exc})"
        ) from None
    return context


def _print_banner(config: OfficeConfig, db: Path, base: str, open_files: int) -> None:
    from server.app import shown

    print(
        f"Lobby for {config.name}\n  API and pages: {base}/\n  Lobby display: {base}/display"
        f"\n  Supervisor:    {base}/supervisor\n  Database:      {shown(str(db))}"
        f"\n  Open files:    {open_files} allowed (one per screen connected)",
        flush=True,
    )
    _print_demo_hints(db, base)


def _print_demo_hints(db: Path, base: str) -> None:
    tokens = {role: db.parent / f"demo-{role}.token" for role in ("kiosk", "display")}
    if not all(path.exists() for path in tokens.values()):
        return
    display = tokens["display"].read_text().strip()
    print(
        f"\nDemo office (see README.md):\n  Display page:  {base}/display?token={display}"
        f"\n  Staff:         clerk / clerk, clerk2 / clerk2, super / super"
        f"\n  Supervisor:    sign in at {base}/supervisor"
        f"\n  Kiosk:         make kiosk      Counter: make counter",
        flush=True,
    )


def cmd_staff_add(args: argparse.Namespace) -> int:
    from server.auth import hash_password, weak_password

    try:
        password = _read_password()
    except ValueError as exc:
        return _fail(str(exc))
    weak = weak_password(password)
    if weak is not None:
        return _fail(f"choose another password: {weak}")
    with _accounts(args.db) as accounts:
        accounts.add_staff(args.name, args.role, hash_password(password))
    print(f"staff {args.name!r} saved as {args.role}")
    return 0


def cmd_device_add(args: argparse.Namespace) -> int:
    from server.auth import hash_token, new_token

    token = new_token()
    with _accounts(args.db) as accounts:
        accounts.add_device(args.name, args.role, hash_token(token))
    print(f"device {args.name!r} saved as {args.role}; its token (shown once):")
    print(token)
    return 0


def cmd_device_revoke(args: argparse.Namespace) -> int:
    """A lost or stolen kiosk: its token stops working (within half a minute on a running
    server, which remembers tokens that briefly; at once from the supervisor page)."""
    with _accounts(args.db) as accounts:
        found = [d for d in accounts.devices() if d.name == args.name]
        if not found:
            known = ", ".join(d.name for d in accounts.devices()) or "none"
            return _fail(f"no device named {args.name!r} (devices: {known})")
        accounts.remove_device(found[0].id)
    print(f"device {args.name!r} revoked; `lobby device add` issues it a new token")
    return 0


def cmd_demo_setup(args: argparse.Namespace) -> int:
    """Create the demo staff and device tokens once, so ``make run`` works on a fresh clone."""
    from server.auth import DEMO_STAFF, hash_password, hash_token, new_token

    db = Path(args.db)
    with _accounts(db) as accounts:
        for name, role, password in DEMO_STAFF:
            if accounts.staff_password(name) is None:
                accounts.add_staff(name, role, hash_password(password))
        for role in ("kiosk", "display"):
            path = db.parent / f"demo-{role}.token"
            if not path.exists():
                token = new_token()
                accounts.add_device(f"demo-{role}", role, hash_token(token))
                path.write_text(token + "\n")
    return 0


def cmd_privacy(args: argparse.Namespace) -> int:
    """Export or erase what is held about a person, or read the audit log, through the running
    server (as a supervisor): an erasure then reaches the live office, the log, its write-ahead
    log and every backup made after it, and each action is in the audit log."""
    import asyncio
    import json

    import msgspec

    from lobby import protocol as p
    from lobby.client import ApiError, LobbyClient, ServerUnreachable

    password = _staff_password(args.staff)
    who = p.PrivacyRequest(name=getattr(args, "name", None), ticket=getattr(args, "ticket", None))

    async def run() -> object:
        async with LobbyClient(args.server) as client:
            await client.login(args.staff, password)
            if args.action == "audit":
                return await client.request("GET", "/api/privacy/audit")
            return await client.request("POST", f"/api/privacy/{args.action}", who)

    try:
        answer = asyncio.run(run())
    except (ApiError, ServerUnreachable) as failed:
        return _fail(str(failed))
    print(json.dumps(msgspec.to_builtins(answer), indent=2, ensure_ascii=False))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The supervisor's report from the database, computed as the page computes it."""
    from datetime import datetime

    from server.app import store_for
    from server.config import ConfigError, load_config
    from server.reports.figures import period_of, report
    from server.reports.tables import print_report
    from server.store.port import RecordsBehind, UnusableStore
    from server.store.postgres import is_postgres

    if args.hq:  # headquarters: every office
        from server.hq.commands import cmd_hq_report

        return cmd_hq_report(args)
    if not is_postgres(args.db) and not Path(args.db).exists():
        return _fail(f"no database at {args.db}")
    try:
        config = load_config(args.config)
        now = datetime.now(config.tz)
        first, last = period_of(args.start, args.end, now.date())
        figures = report(store_for(args.db), config, first, last, now)
    except (ConfigError, ValueError, RecordsBehind, UnusableStore) as exc:
        return _fail(str(exc))
    if args.html:
        from server.reports.printable import report_file

        Path(args.html).write_text(report_file(figures), encoding="utf-8")
    print_report(figures, config.name, first, last, args.by, args.csv, args.format)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """A verified online copy of the database, taken while the office serves."""
    from server.store.sqlite_copy import CopyRefused, backup

    try:
        copied = backup(Path(args.db), args.dest)
    except CopyRefused as refused:
        return _fail(str(refused))
    print(copied.line("backed up", Path(args.db)))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """A backup back in place of the database; refused while a server serves it."""
    from server.store.sqlite_copy import CopyRefused, restore

    try:
        copied, kept = restore(Path(args.src), Path(args.db))
    except CopyRefused as refused:
        return _fail(str(refused))
    print(copied.line("restored", Path(args.src)))
    if kept:
        print(f"the database it replaced is kept as {kept[0]}")
    return 0


def add_copy_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser("backup", help="a verified copy of the database (while it serves)")
    backup.add_argument("dest", help="the copy's file, or a folder for a file named by the time")
    backup.add_argument("--db", default=DEFAULT_DB)
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="put a backup back (the server must be stopped)")
    restore.add_argument("src", help="the backup file")
    restore.add_argument("--db", default=DEFAULT_DB)
    restore.set_defaults(func=cmd_restore)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check a running office end to end (server/doctor.py); 1 when something must be fixed."""
    from server.doctor import main as doctor_main

    password = _staff_password(args.staff) if args.staff else ""
    return doctor_main(args.server, args.db, args.staff, password)


def add_doctor_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser("doctor", help="check a running office end to end; what to fix")
    doctor.add_argument("--server", default="http://127.0.0.1:8080")
    doctor.add_argument("--db", help="also check this database file as this machine sees it")
    doctor.add_argument(
        "--staff",
        help="a supervisor's name (password on stdin); not needed on the office's box when"
        " [security] metrics_from_loopback = true",
    )
    doctor.set_defaults(func=cmd_doctor)


TOKEN_VARIABLE = "LOBBY_TOKEN"
TOKEN_HELP = (
    f"the device's token (from `lobby device add`); default: ${TOKEN_VARIABLE}, which keeps it"
    " out of the process list on a shared machine"
)


def device_token(args: argparse.Namespace) -> None:
    """``--token``, or the environment's: a systemd unit reads it from a file only the
    device's account may read, where a command-line token shows in ``ps`` to every user."""
    args.token = args.token or os.environ.get(TOKEN_VARIABLE, "").strip()
    if not args.token:
        raise SystemExit(f"lobby {args.command}: give --token or set {TOKEN_VARIABLE}")


def cmd_kiosk(args: argparse.Namespace) -> int:
    from kiosk.app import main as kiosk_main

    device_token(args)
    return kiosk_main(args)


def cmd_counter(args: argparse.Namespace) -> int:
    from counter.app import main as counter_main

    return counter_main(args)


def cmd_display(args: argparse.Namespace) -> int:
    from display.board import main as display_main

    device_token(args)
    return display_main(args)


def cmd_check_config(args: argparse.Namespace) -> int:
    """Read the office file as the server would; list every text missing in an office
    language (each shows the first language's text there). Exit 2 when the file is unusable."""
    from server.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    languages = ", ".join(config.languages)
    print(
        f"{args.config}: valid: {len(config.services)} services, "
        f"{len(config.counters)} counters, languages {languages}"
    )
    if not config.gaps:
        print("Every office text is given in every office language.")
    else:
        print(f"{len(config.gaps)} missing translations:")
        for gap in config.gaps:
            print(f"  {gap}")
    _print_missing_clips(config)
    return 0


def _print_missing_clips(config: OfficeConfig) -> None:
    """The recorded clips each language with a clip folder still lacks (server/clips.py)."""
    from server.clips import Clips

    if config.speech_clips is None:
        return
    clips = Clips(config.speech_clips)
    for lang in config.languages:
        if not (config.speech_clips / lang).is_dir():
            continue
        missing = clips.missing(lang, config)
        print(
            f"{lang}: calls are said from the clips in {config.speech_clips / lang}"
            if not missing
            else f"{lang}: {len(missing)} clips missing, calls are not said:"
        )
        for path in missing:
            print(f"  {lang}: missing clip {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lobby", description="Front-desk queue and kiosk system")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--config", required=True)
    serve.add_argument("--db", default=DEFAULT_DB)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--init",
        action="store_true",
        help="start a new office when --db holds no database (leftovers are set aside)",
    )
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS: the certificate chain")
    serve.add_argument("--tls-key", metavar="PEM", help="serve HTTPS: the certificate's key")
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per line, for a log collector (docs/operations.md)",
    )
    serve.set_defaults(func=cmd_serve)

    emergency = sub.add_parser(
        "emergency", help="start or end the emergency mode on the running server"
    ).add_subparsers(dest="action", required=True)
    start = emergency.add_parser("start", help="every screen shows the kind's instruction")
    start.add_argument("--kind", required=True, help="a configured kind: evacuate, shelter, drill")
    start.add_argument("--db", default=DEFAULT_DB, help="the database the server runs")
    start.add_argument(
        "--request-id", default=None, help="a retry with the same id starts nothing new"
    )
    start.set_defaults(func=cmd_emergency)
    end = emergency.add_parser("end", help="back to normal: check-in and calling resume")
    end.add_argument("--db", default=DEFAULT_DB, help="the database the server runs")
    end.set_defaults(func=cmd_emergency)

    check = sub.add_parser(
        "check-config", help="check an office file and list its missing translations"
    )
    check.add_argument("--config", required=True)
    check.set_defaults(func=cmd_check_config)

    staff = sub.add_parser("staff", help="manage staff accounts").add_subparsers(
        dest="action", required=True
    )
    staff_add = staff.add_parser("add", help="add or update a staff member")
    staff_add.add_argument("name")
    staff_add.add_argument("--role", choices=("clerk", "supervisor", "admin"), required=True)
    staff_add.add_argument("--db", default=DEFAULT_DB)
    staff_add.set_defaults(func=cmd_staff_add)

    device = sub.add_parser("device", help="manage device tokens").add_subparsers(
        dest="action", required=True
    )
    device_add = device.add_parser("add", help="add a kiosk or display; prints its token")
    device_add.add_argument("name")
    device_add.add_argument("--role", choices=("kiosk", "display"), required=True)
    device_add.add_argument("--db", default=DEFAULT_DB)
    device_add.set_defaults(func=cmd_device_add)
    device_revoke = device.add_parser("revoke", help="revoke a kiosk or display token")
    device_revoke.add_argument("name")
    device_revoke.add_argument("--db", default=DEFAULT_DB)
    device_revoke.set_defaults(func=cmd_device_revoke)

    privacy = sub.add_parser(
        "privacy", help="a person's data: export, erase, and the audit log (through the server)"
    ).add_subparsers(dest="action", required=True)
    for action, text in (
        ("export", "everything held about a person or a visit, as JSON"),
        ("erase", "erase a person's or a visit's private data now"),
        ("audit", "every export and erasure so far"),
    ):
        command = privacy.add_parser(action, help=text)
        if action != "audit":
            whose = command.add_mutually_exclusive_group(required=True)
            whose.add_argument("--name", help="every visit checked in under this name")
            whose.add_argument("--ticket", type=int, help="one visit, by ticket id")
        command.add_argument("--server", default="http://127.0.0.1:8080")
        command.add_argument(
            "--staff", required=True, help="a supervisor's name (password on stdin)"
        )
        command.set_defaults(func=cmd_privacy)

    demo = sub.add_parser("demo-setup", help="create the demo staff and device tokens")
    demo.add_argument("--config", default="examples/demo.toml")
    demo.add_argument("--db", default=DEFAULT_DB)
    demo.set_defaults(func=cmd_demo_setup)

    add_report_parser(sub)
    from server.hq.commands import add_hq_parser  # lobby hq serve / add-office

    add_hq_parser(sub)
    add_copy_parsers(sub)
    add_simulate_parser(sub)
    add_doctor_parser(sub)

    kiosk = sub.add_parser("kiosk", help="run the check-in kiosk")
    kiosk.add_argument("--server", required=True)
    kiosk.add_argument("--token", help=TOKEN_HELP)
    kiosk.add_argument("--printer", default="preview:var/tickets")
    kiosk.add_argument("--idle-timeout", type=float, default=60.0)
    kiosk.add_argument(
        "--outbox",
        default="var/kiosk-outbox.sqlite",
        help="file keeping check-ins taken while the server cannot be reached",
    )
    kiosk.set_defaults(func=cmd_kiosk)

    counter = sub.add_parser("counter", help="run a counter-staff terminal")
    counter.add_argument("--server", required=True)
    counter.add_argument("--counter", required=True)
    counter.set_defaults(func=cmd_counter)

    display = sub.add_parser("display", help="run the lobby board in a terminal")
    display.add_argument("--server", required=True)
    display.add_argument("--token", help=TOKEN_HELP)
    display.set_defaults(func=cmd_display)
    return parser


def add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="print a period's report (as the supervisor page)")
    report.add_argument("--db", default=DEFAULT_DB)
    report.add_argument("--config", default="examples/demo.toml")
    report.add_argument("--from", dest="start", metavar="DATE", help="first day (default today)")
    report.add_argument("--to", dest="end", metavar="DATE", help="last day (default --from)")
    report.add_argument(
        "--by", choices=("service", "counter", "staff", "day", "hour", "office"), default="service"
    )
    report.add_argument("--csv", metavar="FILE", help="also write the breakdown as CSV")
    report.add_argument(
        "--html", metavar="FILE", help="also write the printable report (as /supervisor/report)"
    )
    report.add_argument("--format", choices=("table", "json"), default="table")
    report.set_defaults(func=cmd_report)
    from server.hq import commands as hq_commands  # headquarters' options

    hq_commands.add_report_options(report)


def cmd_simulate(args: argparse.Namespace) -> int:
    """A day through the real engine on a virtual clock, measured as the reports measure."""
    import json
    import tempfile
    from datetime import date

    from server.config import ConfigError, load_config
    from server.reports.records import counter_layout
    from server.simulation.run import ALL_ESTIMATORS, Changes, printout, recorded_plan, run
    from server.simulation.scenario import ScenarioError, draw, load_scenario
    from server.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory(prefix="lobby-simulate-") as scratch:
        runs = iter(range(1_000_000))

        def new_store(config: OfficeConfig) -> SqliteStore:
            return SqliteStore(Path(scratch) / f"day-{next(runs)}.db", counter_layout(config))

        try:
            config = load_config(args.config) if args.config else None
            if args.from_db:
                if config is None or not args.date:
                    return _fail("--from-db needs --config and --date")
                if not Path(args.from_db).exists():
                    return _fail(f"no database at {args.from_db}")
                source = SqliteStore(args.from_db, counter_layout(config))
                plan = recorded_plan(source, config, date.fromisoformat(args.date))
            elif args.scenario:
                scenario, config = load_scenario(Path(args.scenario), config)
                plan = draw(scenario, config, args.seed)
                plan.notes.append(f"{Path(args.scenario).name}, seed {args.seed}")
            else:
                return _fail("name a scenario file, or --from-db with --config and --date")
            assignment = dict(_assignment(text) for text in args.assign)
            plan = Changes(args.add_counters, assignment, args.rule).apply(plan)
            estimators = ALL_ESTIMATORS if args.compare else [args.estimator]
            figures = run(plan, estimators, args.rule, new_store)
        except (ConfigError, ScenarioError, ValueError) as exc:
            return _fail(str(exc))
    if args.format == "json":
        print(json.dumps({"plan": plan.notes, "figures": figures}, indent=2, ensure_ascii=False))
    else:
        print(printout(plan, figures), end="")
    return 0


def _assignment(text: str) -> tuple[str, tuple[str, ...]]:
    counter, _, services = text.partition("=")
    if not counter or not services:
        raise ValueError(f"--assign {text!r}: write it as COUNTER=SERVICE[,SERVICE...]")
    return counter, tuple(s.strip() for s in services.split(",") if s.strip())


class _NamesOf:
    """Choices looked up when argparse first needs them (a value to check, a help to print):
    the simulator's rules live with the engine, which ``lobby kiosk`` and every other command
    would otherwise import at start. (A ``metavar`` keeps argparse from listing them sooner.)"""

    def __init__(self, which: str) -> None:
        self.which = which

    def _names(self) -> list[str]:
        from server.simulation import rules

        return sorted(getattr(rules, self.which))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


def add_simulate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = sub.add_parser(
        "simulate", help="play a day through the engine and measure it (plan tomorrow)"
    )
    simulate.add_argument("scenario", nargs="?", help="a scenario TOML file (examples/scenarios)")
    simulate.add_argument("--config", help="the office (default: the scenario's own)")
    simulate.add_argument("--seed", type=int, default=1, help="the same seed draws the same day")
    simulate.add_argument("--from-db", metavar="PATH", help="replay a day the office had")
    simulate.add_argument("--date", metavar="DATE", help="the day to replay (with --from-db)")
    simulate.add_argument(
        "--add-counters", type=int, default=0, metavar="N", help="N more counters, all services"
    )
    simulate.add_argument(
        "--assign",
        action="append",
        default=[],
        metavar="COUNTER=SERVICES",
        help="a counter serving other services, e.g. w4=billing,permits (repeatable)",
    )
    simulate.add_argument(
        "--rule",
        choices=_NamesOf("RULES"),
        default="longest-wait",
        metavar="RULE",
        help="who is called next: %(choices)s (default %(default)s)",
    )
    simulate.add_argument(
        "--estimator",
        choices=_NamesOf("ESTIMATORS"),
        default="forecast",
        metavar="NAME",
        help="how waits are estimated: %(choices)s (default %(default)s)",
    )
    simulate.add_argument("--compare", action="store_true", help="measure every estimator")
    simulate.add_argument("--format", choices=("table", "json"), default="table")
    simulate.set_defaults(func=cmd_simulate)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Refused as refused:
        return _fail(str(refused))


if __name__ == "__main__":
    sys.exit(main())
