"""`/export`: members, ledger and surveys as CSV files the owner opens in a spreadsheet.

Files are UTF-8 with a byte-order mark (Excel needs it to read Arabic and
Persian correctly; every other tool ignores it), comma-separated, one
header row of stable English column names, Latin digits and times in the
merchant's time zone. Rows are read in pages by primary key and written
straight to disk, so a ledger of millions of entries never sits in memory;
a file that would exceed Telegram's upload limit is split into numbered
parts, each with its own header. Text typed by people (names, notes,
comments) is defused against spreadsheet formula injection.
"""
from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.ports import Context

PAGE_SIZE = 2000
PART_LIMIT = 45 * 1024 * 1024  # bytes; Telegram bots may upload 50 MB
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFile:
    path: Path
    name: str  # the file name the owner sees
    table: str
    rows: int
    part: int
    parts: int


def cell(value: Any, zone: ZoneInfo, *, text: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    string = str(value)
    if text and string.startswith(_FORMULA_START):
        return "'" + string  # shown as typed, never evaluated as a formula
    return string


# Columns holding text people typed (or could have typed): defused on the way out.
_TEXT_COLUMNS = {"first_name", "last_name", "username", "note", "comment", "reference"}

Page = Callable[[Any, int, int], Awaitable[list[Any]]]
_TABLES: tuple[tuple[str, str, Page], ...] = (
    ("members", "MEMBER_COLUMNS", lambda reports, after, limit: reports.members_page(after, limit)),
    ("ledger", "LEDGER_COLUMNS", lambda reports, after, limit: reports.ledger_page(after, limit)),
    ("surveys", "SURVEY_COLUMNS", lambda reports, after, limit: reports.surveys_page(after, limit)),
)


class _PartWriter:
    """Writes one table into as many files as the size limit needs."""

    def __init__(self, directory: Path, table: str, header: tuple[str, ...], part_limit: int) -> None:
        self.directory, self.table, self.header, self.part_limit = directory, table, header, part_limit
        self.parts: list[tuple[Path, int]] = []
        self._handle: Any = None
        self._writer: Any = None
        self._rows = 0

    def _open(self) -> None:
        path = self.directory / f"{self.table}-{len(self.parts) + 1}.csv"
        self._handle = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(self.header)
        self.parts.append((path, 0))
        self._rows = 0

    def write(self, rows: list[list[str]]) -> None:
        if self._handle is None:
            self._open()
        elif self._rows and self._handle.tell() >= self.part_limit:
            self.close()
            self._open()
        self._writer.writerows(rows)
        self._rows += len(rows)
        self.parts[-1] = (self.parts[-1][0], self._rows)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def finish(self) -> list[tuple[Path, int]]:
        if not self.parts:
            self._open()
        self.close()
        return self.parts


def _rows(page: list[Any], header: tuple[str, ...], zone: ZoneInfo) -> Iterator[list[str]]:
    for row in page:
        yield [cell(value, zone, text=name in _TEXT_COLUMNS) for name, value in zip(header, row, strict=True)]


async def export_csv(
    ctx: Context, *, actor_id: int, directory: Path, page_size: int = PAGE_SIZE, part_limit: int = PART_LIMIT
) -> list[ExportFile]:
    """Write members, ledger and surveys CSV files into `directory` (the caller sends and deletes them)."""
    now = ctx.now()
    stamp = now.astimezone(ctx.zone).strftime("%Y-%m-%d")
    files: list[ExportFile] = []
    async with ctx.uow(readonly=True) as uow:
        for table, columns, fetch in _TABLES:
            header: tuple[str, ...] = getattr(uow.reports, columns)
            writer = _PartWriter(directory, table, header, part_limit)
            after = 0
            try:
                while True:
                    page = await fetch(uow.reports, after, page_size)
                    if not page:
                        break
                    writer.write(list(_rows(page, header, ctx.zone)))
                    after = page[-1][0]
                    if len(page) < page_size:
                        break
            finally:
                parts = writer.finish()
            for number, (path, rows) in enumerate(parts, 1):
                suffix = f"-part{number}" if len(parts) > 1 else ""
                files.append(ExportFile(path, f"wafa-{table}-{stamp}{suffix}.csv", table, rows, number, len(parts)))
    async with ctx.uow() as uow:
        uow.audit.record(
            actor_id=actor_id, action="export", now=now,
            rows={table: sum(f.rows for f in files if f.table == table) for table, _, _ in _TABLES},
        )
        await uow.commit()
    return files
