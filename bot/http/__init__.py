"""The HTTP edge (SPEC §9): the API for the shop's systems, shop webhooks, the
Telegram webhook, health and metrics, in one ASGI app served inside the
bot's event loop. As thin as the Telegram edge, over the same services;
it imports no aiogram (the Telegram webhook route hands the raw update to a
function the Telegram layer provides)."""
