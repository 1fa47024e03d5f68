"""The ``lobby hq ...`` commands and ``lobby report --hq``: parsed here, wired in
``lobby/cli.py`` by one line each."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime


def _fail(message: str) -> int:
    print(f"lobby: {message}", file=sys.stderr)
    return 2


def cmd_hq_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from server.hq.app import create_hq_app
    from server.logs import configure as configure_logging
    from server.store.port import UnusableStore

    configure_logging(args.log_format)
    print(f"Headquarters at http://{args.host}:{args.port}/ (overview)", flush=True)
    try:
        web.run_app(create_hq_app(args.db), host=args.host, port=args.port, print=None)
    except UnusableStore as refused:
        return _fail(f"not starting: {refused}")
    return 0


def _issued(issue: Callable[[], str], note: str) -> int:
    """Print a token just issued (stdout, for a script to keep) and what to do with it."""
    from server.store.port import UnusableStore

    try:
        token = issue()
    except UnusableStore as refused:
        return _fail(str(refused))
    print(token)
    print(f"({note}; a token issued before for it no longer works)", file=sys.stderr)
    return 0


def cmd_hq_add_office(args: argparse.Namespace) -> int:
    from server.hq.database import add_office

    return _issued(
        lambda: add_office(args.db, args.office_id),
        f"office {args.office_id!r}: put this token in the office's [headquarters] token_file",
    )


def cmd_hq_add_viewer(args: argparse.Namespace) -> int:
    from server.hq.database import add_viewer

    return _issued(
        lambda: add_viewer(args.db, args.name),
        f"{args.name}: open the overview with ?token=THIS once",
    )


def cmd_hq_report(args: argparse.Namespace) -> int:
    """``lobby report --hq URL``: every office's figures and all offices together."""
    from server.hq.database import offices_of
    from server.hq.reports import hq_report
    from server.reports.figures import period_of
    from server.reports.tables import print_report
    from server.store.port import RecordsBehind, UnusableStore

    now = datetime.now(UTC)
    try:
        first, last = period_of(args.start, args.end, now.astimezone().date())
        schema, offices = offices_of(args.hq)
        if args.office:
            offices = [o for o in offices if o.id == args.office]
            if not offices:
                return _fail(f"no office {args.office!r} is registered at headquarters")
        figures = hq_report(args.hq, schema, offices, first, last, now)
    except (ValueError, RecordsBehind, UnusableStore) as exc:
        return _fail(str(exc))
    if args.office:  # one office: its own report, every breakdown as at the office
        figures = figures["office_reports"].get(args.office, {})
        if not figures:
            return _fail(f"headquarters has nothing from {args.office!r} yet")
    by = args.by if args.office or args.by != "service" else "office"
    print_report(figures, "Headquarters", first, last, by, args.csv, args.format)
    return 0


def add_hq_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hq = sub.add_parser("hq", help="headquarters: every office's log on PostgreSQL")
    commands = hq.add_subparsers(dest="hq_command", required=True)
    serve = commands.add_parser("serve", help="run headquarters")
    serve.add_argument("--db", required=True, help="postgresql://... (a schema of its own)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--log-format", choices=("text", "json"), default="text")
    serve.set_defaults(func=cmd_hq_serve)
    add = commands.add_parser("add-office", help="register an office; prints its token")
    add.add_argument("--db", required=True)
    add.add_argument("office_id", help="the office_id in the office's [headquarters] section")
    add.set_defaults(func=cmd_hq_add_office)
    viewer = commands.add_parser(
        "add-viewer", help="let someone read the overview and reports; prints their token"
    )
    viewer.add_argument("--db", required=True)
    viewer.add_argument("name")
    viewer.set_defaults(func=cmd_hq_add_viewer)


def add_report_options(report: argparse.ArgumentParser) -> None:
    report.add_argument(
        "--hq",
        metavar="URL",
        help="headquarters' postgresql:// database: every office (--by office), or --office",
    )
    report.add_argument("--office", help="with --hq: one office's report")
