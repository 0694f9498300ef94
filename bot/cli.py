"""`wafa` command line (SPEC §2): run | webhook | demo | migrate | run-job | backup."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.domain.program import ProgramError

log = logging.getLogger("wafa")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wafa", description="Wafa: a loyalty assistant that lives in Telegram.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="long polling against Telegram (needs BOT_TOKEN)")
    commands.add_parser("webhook", help="webhook server for multi-replica deployments")
    demo = commands.add_parser("demo", help="the real bot against a built-in Telegram stand-in, in your terminal")
    demo.add_argument("--fresh", action="store_true", help="start from an empty demo database")
    demo.add_argument("--database", default="wafa-demo.db", help="SQLite file of the demo (default: %(default)s)")
    demo.add_argument(
        "--visual-rtl", action="store_true", help="reorder Arabic and Persian lines for terminals without bidi support"
    )
    commands.add_parser("migrate", help="apply database migrations")
    job = commands.add_parser("run-job", help="run one scheduled job now")
    job.add_argument("name", help="birthdays | winback | expiry | surveys | outbox")
    job.add_argument("--date", type=_iso_date, help="run as if today were YYYY-MM-DD (merchant time)")
    backup = commands.add_parser("backup", help="consistent copy of the database while the bot runs")
    backup.add_argument("path", type=Path)
    return parser


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if args.command == "demo":
            from bot.demo.terminal import run_demo

            return run_demo(fresh=args.fresh, database=Path(args.database), visual_rtl=args.visual_rtl or None)
        settings = load_settings()
        action = _ACTIONS[args.command]
        return asyncio.run(action(settings, args))
    except (ConfigError, ProgramError) as exc:
        name = "PROGRAM_FILE: " if isinstance(exc, ProgramError) else ""
        print(f"wafa: {name}{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM and Ctrl-C ask for a graceful stop (SPEC §7) instead of killing."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.config import require_token

    require_token(settings)
    from bot.app import App

    app = App(settings)
    try:
        await app.serve_polling(_stop_on_signals())
    finally:
        await app.close()
    log.info("stopped")
    return 0


async def _webhook(settings: Settings, args: argparse.Namespace) -> int:
    from bot.config import require_token, require_webhook

    require_token(settings)
    require_webhook(settings)
    from bot.app import App
    from bot.telegram.webhook import serve_webhook

    app = App(settings)
    try:
        await serve_webhook(app, _stop_on_signals())
    finally:
        await app.close()
    return 0


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App

    app = App(settings)
    try:
        await app.prepare_database(migrate=True)
    finally:
        await app.close()
    print("wafa: database is up to date")
    return 0


async def _run_job(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.jobs import JOBS, run_job

    if args.name not in JOBS:
        print(f"wafa: unknown job {args.name!r}; available: {', '.join(sorted(JOBS))}", file=sys.stderr)
        return 2
    app = App(settings)
    try:
        await app.prepare_database()
        summary = await run_job(app, args.name, args.date)
    finally:
        await app.close()
    print(f"wafa: {args.name}: {summary}")
    return 0


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import backup_database

    try:
        await backup_database(settings.database_url, args.path)
    except (OSError, RuntimeError) as exc:
        print(f"wafa: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"wafa: database copied to {args.path}")
    return 0


_ACTIONS: dict[str, Callable[[Settings, argparse.Namespace], Awaitable[int]]] = {
    "run": _run,
    "webhook": _webhook,
    "migrate": _migrate,
    "run-job": _run_job,
    "backup": _backup,
}
