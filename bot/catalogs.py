"""Message ids in the code versus the catalogs: extraction, checks, sync.

Used by the tests (every string the code can show exists in ar, fa and en)
and by `python -m bot.catalogs` when a developer adds strings.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import LANGUAGES, locales_dir

KEYWORDS = {
    "_": None,
    "gettext": None,
    "__": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
# Written into each catalog header. Arabic uses the CLDR/GNU order (zero, one,
# two, few 3–10, many 11–99, other 100–102…) that gettext, Babel ≥ 2.19,
# Weblate, Crowdin and Poedit all assume, so a catalog tool never reshuffles forms.
PLURAL_FORMS = {
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
    "fa": "nplurals=2; plural=(n > 1);",
    "en": "nplurals=2; plural=(n != 1);",
}
SOURCE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Extracted:
    msgid: str | tuple[str, str]
    where: str

    @property
    def key(self) -> str:
        return self.msgid if isinstance(self.msgid, str) else self.msgid[0]


def extract(source: Path = SOURCE) -> dict[str, Extracted]:
    found: dict[str, Extracted] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        source, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True
    ):
        msgid = message if isinstance(message, str) else tuple(message)[:2]
        if not msgid or (isinstance(msgid, tuple) and not msgid[0]):
            continue
        item = Extracted(msgid, f"bot/{filename}:{lineno}")  # type: ignore[arg-type]
        found.setdefault(item.key, item)
    return found


def catalog_files(lang: str, root: Path | None = None) -> list[Path]:
    return sorted(((root or locales_dir()) / lang / "LC_MESSAGES").glob("*.po"))


def read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def problems(root: Path | None = None) -> list[str]:
    """Missing, obsolete and duplicated ids; an empty list means in sync."""
    code = extract()
    found: list[str] = []
    for lang in LANGUAGES:
        seen: dict[str, Path] = {}
        for path in catalog_files(lang, root):
            for message in read(path, lang):
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                if key in seen:
                    found.append(f"{lang}: {key!r} is in both {seen[key].name} and {path.name}")
                seen[key] = path
        for key, item in code.items():
            if key not in seen:
                found.append(f"{lang}: missing {key!r} ({item.where})")
        for key, path in seen.items():
            if key not in code:
                found.append(f"{lang}: {path.name} has {key!r}, which the code no longer uses")
    return found


def add_missing(feature: str, root: Path | None = None) -> int:
    """Append ids the code uses but no catalog has to `<feature>.po` of every
    language: English filled in, Arabic and Persian left for the translator."""
    code = extract()
    added = 0
    for lang in LANGUAGES:
        known = {
            (m.id if isinstance(m.id, str) else m.id[0])
            for path in catalog_files(lang, root)
            for m in read(path, lang)
            if m.id
        }
        path = (root or locales_dir()) / lang / "LC_MESSAGES" / f"{feature}.po"
        catalog = read(path, lang) if path.exists() else new_catalog(lang)
        for key, item in code.items():
            if key in known:
                continue
            if lang == "en":
                string: str | tuple[str, ...] = item.msgid if isinstance(item.msgid, str) else tuple(item.msgid)
            else:
                string = "" if isinstance(item.msgid, str) else ("",) * catalog.num_plurals
            catalog.add(item.msgid, string, locations=[(item.where.split(":")[0], int(item.where.split(":")[1]))])
            added += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=0, omit_header=False, include_lineno=False)
    return added


def new_catalog(lang: str) -> Catalog:
    catalog = Catalog(
        locale=lang,
        project="Wafa",
        version="1",
        copyright_holder="Wafa contributors",
        msgid_bugs_address="https://github.com/wafa-loyalty/wafa/issues",
        charset="utf-8",
        fuzzy=False,
    )
    catalog._num_plurals, catalog._plural_expr = _parse_plural(PLURAL_FORMS[lang])  # type: ignore[assignment]  # babel's private plural fields, typed None
    return catalog


def _parse_plural(header: str) -> tuple[int, str]:
    nplurals, expr = header.split(";", 1)
    return int(nplurals.split("=")[1]), expr.strip().removeprefix("plural=").rstrip(";")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "add":
        print(f"added {add_missing(sys.argv[2])} entries")
    for line in problems():
        print(line)
