"""aiogram's I18n, fed from our `.po` catalogs, and the middleware that picks
the reader's language (the member's stored choice, else Telegram's)."""
from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware

from bot.i18n import load_translations, locales_dir


class CatalogI18n(I18n):
    """aiogram's I18n reads compiled `.mo` files only; ours compiles `.po` in memory."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return dict(load_translations(self.path))

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's ContextInstanceMixin gives every subclass its own context
        # variable, while `gettext()` reads I18n's: register under I18n's.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def create_i18n(default_language: str) -> CatalogI18n:
    return CatalogI18n(path=locales_dir(), default_locale=default_language)


class MemberLocaleMiddleware(I18nMiddleware):
    """Uses `data["lang"]`, set per update by `bot.telegram.middlewares.UserContext`.

    aiogram's SimpleI18nMiddleware is not used: it raises on language codes
    such as `''` or `ar_EG`, and ignores the language a member chose.
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return str(data.get("lang") or self.i18n.default_locale)

