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

import asyncio
import csv
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.ports import Context

PAGE_SIZE = 5000
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


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    string = str(value)
    return "'" + string if string.startswith(_FORMULA_START) else string  # shown as typed, never run


def _flag(value: Any) -> str:
    return "" if value is None else ("yes" if value else "no")


def _amount(value: Any) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _time(zone: ZoneInfo) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    return convert


# Columns holding text people typed (or could have typed): defused on the way out.
_TEXT_COLUMNS = {"first_name", "last_name", "username", "note", "comment", "reference"}


def converters(header: tuple[str, ...], zone: ZoneInfo) -> list[Callable[[Any], str]]:
    """One formatter per column, chosen once per table rather than per cell."""
    result: list[Callable[[Any], str]] = []
    for name in header:
        if name.endswith("_at"):
            result.append(_time(zone))
        elif name in _TEXT_COLUMNS:
            result.append(_text)
        elif name == "marketing_opt_in":
            result.append(_flag)
        elif name == "amount":
            result.append(_amount)
        else:
            result.append(_plain)
    return result


Page = Callable[[Any, int, int], Awaitable[list[Any]]]
_TABLES: tuple[tuple[str, str, Page], ...] = (
    ("members", "MEMBER_COLUMNS", lambda reports, after, limit: reports.members_page(after, limit)),
    ("ledger", "LEDGER_COLUMNS", lambda reports, after, limit: reports.ledger_page(after, limit)),
    ("surveys", "SURVEY_COLUMNS", lambda reports, after, limit: reports.surveys_page(after, limit)),
)
# The stamp ledger, when the program has stamp cards (read through `uow.stamps`).
_STAMP_TABLE = ("stamps", "EXPORT_COLUMNS", lambda stamps, after, limit: stamps.export_page(after, limit))
# Service recovery, surprises and prize draws (issue 15): only when there is something to export.
_MOMENT_TABLES: tuple[tuple[str, tuple[str, str, Page]], ...] = (
    ("recovery", ("recovery", "EXPORT_COLUMNS", lambda source, after, limit: source.export_page(after, limit))),
    ("surprises", ("surprises", "EXPORT_COLUMNS", lambda source, after, limit: source.export_page(after, limit))),
    ("draws", ("draw_entries", "EXPORT_COLUMNS", lambda source, after, limit: source.export_page(after, limit))),
)


class _PartWriter:
    """Writes one table into as many files as the size limit needs (in a worker thread, page by page)."""

    def __init__(
        self, directory: Path, table: str, header: tuple[str, ...], part_limit: int, zone: ZoneInfo
    ) -> None:
        self.directory, self.table, self.header, self.part_limit = directory, table, header, part_limit
        self.convert = converters(header, zone)
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

    def write(self, page: list[Any]) -> None:
        if self._handle is None:
            self._open()
        elif self._rows and self._handle.tell() >= self.part_limit:
            self.close()
            self._open()
        convert = self.convert
        self._writer.writerows([[f(v) for f, v in zip(convert, row, strict=True)] for row in page])
        self._rows += len(page)
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


async def export_csv(
    ctx: Context, *, actor_id: int, directory: Path, page_size: int = PAGE_SIZE, part_limit: int = PART_LIMIT
) -> list[ExportFile]:
    """Write members, ledger and surveys CSV files (and the stamp ledger, when the
    program has stamp cards; recovery cases, surprise gifts and draw entries, when
    there are any) into `directory` (the caller sends and deletes them)."""
    now = ctx.now()
    stamp = now.astimezone(ctx.zone).strftime("%Y-%m-%d")
    files: list[ExportFile] = []
    tables: list[tuple[str, tuple[str, str, Page]]] = [("reports", table) for table in _TABLES]
    if ctx.program.stamps is not None:
        tables.append(("stamps", _STAMP_TABLE))
    async with ctx.uow(readonly=True) as uow:
        for source_name, (table, columns, fetch) in _MOMENT_TABLES:
            if await fetch(getattr(uow, source_name), 0, 1):
                tables.append((source_name, (table, columns, fetch)))
        for source_name, (table, columns, fetch) in tables:
            source = getattr(uow, source_name)
            header: tuple[str, ...] = getattr(source, columns)
            writer = _PartWriter(directory, table, header, part_limit, ctx.zone)
            after = 0
            try:
                while True:
                    page = await fetch(source, after, page_size)
                    if not page:
                        break
                    # Formatting is CPU work: off the event loop, so the bot keeps answering.
                    await asyncio.to_thread(writer.write, page)
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
            rows={table: sum(f.rows for f in files if f.table == table) for _, (table, _, _) in tables},
        )
        await uow.commit()
    return files
