"""A bare aiogram echo bot: the ceiling `bench_side_by_side.py` compares Wafa with.

    BOT_TOKEN=… TELEGRAM_API_URL=http://127.0.0.1:PORT python benchmarks/echo_bot.py

Long polling, one handler that answers every text with itself: what the
framework, the HTTP client and the Bot API server allow, with no database.
"""
from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    await dispatcher.start_polling(bot, handle_signals=True, polling_timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
