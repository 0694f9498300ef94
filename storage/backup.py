"""`wafa backup PATH`: a consistent copy while the bot keeps running."""
from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


async def backup_database(url: str, path: Path) -> None:
    parsed = make_url(url)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        await asyncio.to_thread(_sqlite_backup, Path(parsed.database or ""), path)
    else:
        await _pg_dump(parsed.set(drivername="postgresql").render_as_string(hide_password=False), path)


def _sqlite_backup(source: Path, target: Path) -> None:
    # SQLite's online backup API copies a consistent snapshot page by page,
    # WAL included, while other connections keep writing.
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def _pg_dump(url: str, target: Path) -> None:
    # pg_dump runs in one repeatable-read transaction: a consistent snapshot.
    if shutil.which("pg_dump") is None:
        raise RuntimeError("pg_dump is not installed (Debian package postgresql-client)")
    process = await asyncio.create_subprocess_exec(
        "pg_dump", "--format=custom", f"--file={target}", url, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {err.decode(errors='replace').strip()}")
