"""Configuration fails fast with one line naming the variable; the wheel ships what runs."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"BROADCAST_RATE": "fast"}, "BROADCAST_RATE"),
        ({"BROADCAST_RATE": "0"}, "BROADCAST_RATE"),
        ({"DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"BOT_TOKEN": "not a token"}, "BOT_TOKEN"),
        ({"PROGRAM_FILE": "/nonexistent/program.toml"}, "PROGRAM_FILE"),
        ({"PORT": "99999"}, "PORT"),
        ({"PUBLIC_URL": "http://shop.example"}, "PUBLIC_URL"),  # Telegram opens Mini Apps over HTTPS only
        ({"PUBLIC_URL": "shop.example"}, "PUBLIC_URL"),
        ({"BROADCAST_RATE": "31"}, "BROADCAST_RATE"),  # above Telegram's free 30/s without PAID_BROADCAST
        ({"BROADCAST_RATE": "1001", "PAID_BROADCAST": "1"}, "BROADCAST_RATE"),
        ({"PAID_BROADCAST": "maybe"}, "PAID_BROADCAST"),
    ],
)
def test_malformed_variables_are_named(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{variable}: "):
        load_settings(_env_file=None)


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", " 12, 34 ")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == frozenset({12, 34})
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.default_language == "en" and settings.broadcast_rate == 25
    assert settings.public_url is None
    monkeypatch.setenv("PUBLIC_URL", " https://shop.example/wafa/ ")
    assert load_settings(_env_file=None).public_url == "https://shop.example/wafa"
    assert settings.paid_broadcast is False


def test_paid_broadcasts_allow_up_to_a_thousand_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAID_BROADCAST", "1")
    monkeypatch.setenv("BROADCAST_RATE", "1000")
    settings = load_settings(_env_file=None)
    assert settings.paid_broadcast is True and settings.broadcast_rate == 1000


def _wafa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_run_without_a_token_stops_with_one_line(tmp_path: Path) -> None:
    result = _wafa("run", env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["wafa: BOT_TOKEN: required for `wafa run` and `wafa webhook` (get one from @BotFather)"]


def test_a_bad_program_file_stops_with_one_line(tmp_path: Path) -> None:
    program = tmp_path / "p.toml"
    program.write_text("[earning]\npoints_per_unit = 0\n", encoding="utf-8")
    result = _wafa("migrate", env={"PROGRAM_FILE": str(program), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["wafa: PROGRAM_FILE: earning.points_per_unit: Input should be greater than 0"]


def test_migrate_and_backup_commands(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/live.db"}
    assert _wafa("migrate", env=env).returncode == 0
    result = _wafa("backup", str(tmp_path / "copy.db"), env=env)
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "copy.db") as copy:
        tables = {row[0] for row in copy.execute("select name from sqlite_master where type='table'")}
    assert {"members", "ledger_entries", "outbox"} <= tables


def test_the_wheel_ships_catalogs_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("wafa-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for lang in ("ar", "fa", "en"):
        assert f"locales/{lang}/LC_MESSAGES/core.po" in names
    assert "storage/migrations/env.py" in names
    assert "storage/migrations/script.py.mako" in names
    assert any(n.startswith("storage/migrations/versions/0001") for n in names)
    assert {"standin/__init__.py", "standin/server.py"} <= names  # `wafa demo` runs on it
    assert {f"bot/http/static/miniapp/{name}" for name in ("index.html", "app.js", "app.css")} <= names
    assert "locales/fa/LC_MESSAGES/miniapp.po" in names
    assert not any(n.startswith("tests/") for n in names)
