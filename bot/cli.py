"""`wafa` command line (SPEC §2, §9.1, §11): run | webhook | demo | migrate | run-job | backup | apikey | draw."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

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
    job.add_argument("name", help="birthdays | winback | expiry | surveys | outbox | recovery | draws | …")
    job.add_argument("--date", type=_iso_date, help="run as if today were YYYY-MM-DD (merchant time)")
    backup = commands.add_parser("backup", help="consistent copy of the database while the bot runs")
    backup.add_argument("path", type=Path)
    apikey = commands.add_parser("apikey", help="API keys of the shop's systems (create | list | revoke)")
    keys = apikey.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    create = keys.add_parser("create", help="make a key; it is printed once, alone, on standard output")
    create.add_argument("name", help="what the key is for, e.g. pos-1 or salla")
    create.add_argument(
        "--scopes", type=_scopes, default=None,
        help="comma-separated: members:read, purchases:write, refunds:write, vouchers:write, events:write (default: all)",
    )
    keys.add_parser("list", help="the keys: name, prefix, scopes, created, last used, revoked")
    revoke = keys.add_parser("revoke", help="stop a key from working, at once")
    revoke.add_argument("name")
    draw = commands.add_parser("draw", help="prize draws: verify a result, or print what anyone can check it with")
    draw_commands = draw.add_subparsers(dest="draw_command", required=True, metavar="ACTION")
    verify = draw_commands.add_parser("verify", help="recompute a closed draw from its seed and entries")
    verify.add_argument("id", type=int)
    publish = draw_commands.add_parser("publish", help="the draw's commitment, seed (once closed), entries and result as JSON")
    publish.add_argument("id", type=int)
    return parser


def _scopes(text: str) -> str:
    from bot.domain.api_keys import parse_scopes

    try:
        parse_scopes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


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
        username = await app.check_token()
        if username is None:
            print("wafa: BOT_TOKEN: Telegram refused this token (401 Unauthorized); "
                  "copy the token @BotFather gave you again", file=sys.stderr)
            return 2
        print(f"wafa: @{username} is running (long polling)", flush=True)
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
        username = await app.check_token()
        if username is None:
            print("wafa: BOT_TOKEN: Telegram refused this token (401 Unauthorized); "
                  "copy the token @BotFather gave you again", file=sys.stderr)
            return 2
        print(f"wafa: @{username} is running (webhook)", flush=True)
        await serve_webhook(app, _stop_on_signals())
    finally:
        await app.close()
    return 0


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from storage.migrate import current_revision

    app = App(settings)
    try:
        fresh = await current_revision(app.db.engine) is None
        await app.prepare_database(migrate=True)
    finally:
        await app.close()
    print("wafa: created the database schema" if fresh else "wafa: database is up to date")
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


async def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.services import api_keys

    app = App(settings)
    try:
        await app.prepare_database()
        if args.apikey_command == "create":
            try:
                key = await api_keys.create_key(app.ctx, args.name, args.scopes)
            except ValueError as exc:
                print(f"wafa: {exc}", file=sys.stderr)
                return 1
            print(key)  # alone on stdout, so `KEY=$(wafa apikey create pos)` works
            print(f"wafa: key {args.name!r} created; it is shown only now, keep it safe", file=sys.stderr)
        elif args.apikey_command == "list":
            rows = await api_keys.list_keys(app.ctx)
            if not rows:
                print("no API keys yet; make one with: wafa apikey create NAME")
            for key_info in rows:
                state = f"revoked {key_info.revoked_at:%Y-%m-%d}" if key_info.revoked_at else "active"
                used = f"{key_info.last_used_at:%Y-%m-%d %H:%M}" if key_info.last_used_at else "never"
                print(
                    f"{key_info.name:24} {key_info.prefix}…  {state:18} created {key_info.created_at:%Y-%m-%d}  "
                    f"last used {used}  scopes {','.join(key_info.scopes)}"
                )
        elif not await api_keys.revoke_key(app.ctx, args.name):
            print(f"wafa: no active key is called {args.name!r}", file=sys.stderr)
            return 1
        else:
            print(f"wafa: key {args.name!r} revoked", file=sys.stderr)
    finally:
        await app.close()
    return 0


async def _draw(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bot.app import App
    from bot.domain.draws import DrawNotFound
    from bot.services import draws

    app = App(settings)
    try:
        await app.prepare_database()
        try:
            if args.draw_command == "publish":
                print(json.dumps(await draws.published(app.ctx, args.id), ensure_ascii=False, indent=2))
                return 0
            result = await draws.verify(app.ctx, args.id)
        except DrawNotFound:
            print(f"wafa: there is no draw {args.id}", file=sys.stderr)
            return 1
    finally:
        await app.close()
    if result.status != "closed":
        print(f"draw {result.draw_id}: still open; commitment {result.commitment} (the seed is revealed at the close)")
        return 1
    print(f"draw {result.draw_id}: seed {result.seed}")
    print(f"  sha256(seed) {'matches' if result.commitment_ok else 'DOES NOT MATCH'} the published commitment {result.commitment}")
    print(f"  {result.tickets} entries; winning entries recomputed {result.expected}, recorded {result.recorded}")
    print(f"draw {result.draw_id}: {'OK, the result matches' if result.ok else 'MISMATCH: the result does not match'}")
    return 0 if result.ok else 1


_ACTIONS: dict[str, Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "run": _run,
    "webhook": _webhook,
    "migrate": _migrate,
    "run-job": _run_job,
    "backup": _backup,
    "apikey": _apikey,
    "draw": _draw,
}
