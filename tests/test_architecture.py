"""The loyalty domain and the use cases import no framework (ARCHITECTURE.md); the stand-in imports no product code."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "bot/domain": ("aiogram", "sqlalchemy", "storage", "babel", "bot.telegram", "bot.services"),
    "bot/services": ("aiogram", "sqlalchemy", "storage", "bot.telegram"),
    "storage": ("aiogram", "bot.telegram", "bot.services"),
    # The second edge: thin over the services; the Telegram webhook route gets a function, not aiogram.
    "bot/http": ("aiogram", "bot.telegram", "sqlalchemy", "storage"),
    # The Bot API stand-in judges the bot from outside, so it must not share code with it.
    "standin": ("bot", "storage"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_inward(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[package]):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_only_the_telegram_layer_and_the_root_import_aiogram() -> None:
    allowed = ("bot/telegram/", "bot/demo/", "bot/app.py")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if not str(path.relative_to(ROOT)).startswith(allowed)
        and any(m == "aiogram" or m.startswith("aiogram.") for m in imported_modules(path))
    ]
    assert offenders == []
