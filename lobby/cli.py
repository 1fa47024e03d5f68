"""The ``lobby`` command: serve, manage staff and devices, and start the terminal apps.

This module is the composition root, the one place allowed to import both the server and the
clients; it imports each lazily so ``lobby kiosk`` never loads aiohttp's server side.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path

DEFAULT_DB = "var/lobby.db"
DEMO_STAFF = (
    ("clerk", "clerk", "clerk"),
    ("clerk2", "clerk", "clerk2"),
    ("super", "supervisor", "super"),
)


def _fail(message: str) -> int:
    print(f"lobby: {message}", file=sys.stderr)
    return 2


def _read_password(prompt: str = "Password: ") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from server.app import create_app
    from server.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    base = f"http://{args.host}:{args.port}"
    print(
        f"Lobby for {config.name}\n  API and pages: {base}/\n  Lobby display: {base}/display"
        f"\n  Supervisor:    {base}/supervisor\n  Database:      {args.db}",
        flush=True,
    )
    _print_demo_hints(Path(args.db), base)
    web.run_app(create_app(config, args.db), host=args.host, port=args.port, print=None)
    return 0


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
    from server.auth import hash_password
    from server.store.sqlite import SqliteStore

    try:
        password = _read_password()
    except ValueError as exc:
        return _fail(str(exc))
    if len(password) < 4:
        return _fail("password must have at least 4 characters")
    with SqliteStore(args.db).offline() as accounts:
        accounts.add_staff(args.name, args.role, hash_password(password))
    print(f"staff {args.name!r} saved as {args.role}")
    return 0


def cmd_device_add(args: argparse.Namespace) -> int:
    from server.auth import hash_token, new_token
    from server.store.sqlite import SqliteStore

    token = new_token()
    with SqliteStore(args.db).offline() as accounts:
        accounts.add_device(args.name, args.role, hash_token(token))
    print(f"device {args.name!r} saved as {args.role}; its token (shown once):")
    print(token)
    return 0


def cmd_demo_setup(args: argparse.Namespace) -> int:
    """Create the demo staff and device tokens once, so ``make run`` works on a fresh clone."""
    from server.auth import hash_password, hash_token, new_token
    from server.store.sqlite import SqliteStore

    db = Path(args.db)
    with SqliteStore(db).offline() as accounts:
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


def cmd_report(args: argparse.Namespace) -> int:
    """The supervisor's report from the database, computed as the page computes it."""
    import json
    from datetime import datetime

    from server.config import ConfigError, load_config
    from server.reports.figures import period_of, report
    from server.reports.tables import breakdown, csv_text, text_table
    from server.store.port import RecordsBehind
    from server.store.sqlite import SqliteStore

    if not Path(args.db).exists():
        return _fail(f"no database at {args.db}")
    try:
        config = load_config(args.config)
        now = datetime.now(config.tz)
        first, last = period_of(args.start, args.end, now.date())
        figures = report(SqliteStore(args.db), config, first, last, now)
    except (ConfigError, ValueError, RecordsBehind) as exc:
        return _fail(str(exc))
    header, rows = breakdown(figures, args.by)
    if args.csv:
        Path(args.csv).write_text(csv_text(header, rows), encoding="utf-8")
    if args.html:
        from server.reports.printable import report_file

        Path(args.html).write_text(report_file(figures), encoding="utf-8")
    if args.format == "json":
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        period = first.isoformat() if first == last else f"{first} to {last}"
        print(f"{config.name} · {period} · by {args.by}\n")
        print(text_table(header, rows), end="")
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    from kiosk.app import main as kiosk_main

    return kiosk_main(args)


def cmd_counter(args: argparse.Namespace) -> int:
    from counter.app import main as counter_main

    return counter_main(args)


def cmd_display(args: argparse.Namespace) -> int:
    from display.board import main as display_main

    return display_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lobby", description="Front-desk queue and kiosk system")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--config", required=True)
    serve.add_argument("--db", default=DEFAULT_DB)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_serve)

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

    demo = sub.add_parser("demo-setup", help="create the demo staff and device tokens")
    demo.add_argument("--config", default="examples/demo.toml")
    demo.add_argument("--db", default=DEFAULT_DB)
    demo.set_defaults(func=cmd_demo_setup)

    add_report_parser(sub)

    kiosk = sub.add_parser("kiosk", help="run the check-in kiosk")
    kiosk.add_argument("--server", required=True)
    kiosk.add_argument("--token", required=True)
    kiosk.add_argument("--printer", default="preview:var/tickets")
    kiosk.add_argument("--idle-timeout", type=float, default=60.0)
    kiosk.set_defaults(func=cmd_kiosk)

    counter = sub.add_parser("counter", help="run a counter-staff terminal")
    counter.add_argument("--server", required=True)
    counter.add_argument("--counter", required=True)
    counter.set_defaults(func=cmd_counter)

    display = sub.add_parser("display", help="run the lobby board in a terminal")
    display.add_argument("--server", required=True)
    display.add_argument("--token", required=True)
    display.set_defaults(func=cmd_display)
    return parser


def add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="print a period's report (as the supervisor page)")
    report.add_argument("--db", default=DEFAULT_DB)
    report.add_argument("--config", default="examples/demo.toml")
    report.add_argument("--from", dest="start", metavar="DATE", help="first day (default today)")
    report.add_argument("--to", dest="end", metavar="DATE", help="last day (default --from)")
    report.add_argument(
        "--by", choices=("service", "counter", "staff", "day", "hour"), default="service"
    )
    report.add_argument("--csv", metavar="FILE", help="also write the breakdown as CSV")
    report.add_argument(
        "--html", metavar="FILE", help="also write the printable report (as /supervisor/report)"
    )
    report.add_argument("--format", choices=("table", "json"), default="table")
    report.set_defaults(func=cmd_report)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
