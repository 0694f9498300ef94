"""For operators: /healthz, /readyz, /metrics; the Telegram webhook route on the
HTTP app; PORT, HTTP_HOST and WEBHOOK_SECRET; `wafa apikey`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.app import App
from bot.config import ConfigError, load_settings, require_webhook
from bot.http.deps import TelegramWebhook
from bot.telegram.webhook import update_feeder
from standin import BotAPIStandIn
from tests.http.conftest import bearer
from tests.http.test_api import join
from tests.support import EMMA, Chat, FakeClock, make_app

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz_and_readyz_on_a_current_database(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_readyz_is_503_with_the_reason_when_the_schema_is_behind_or_the_database_is_gone(
    tmp_path: Path, standin: BotAPIStandIn
) -> None:
    empty = tmp_path / "empty.db"
    behind = await make_app(f"sqlite+aiosqlite:///{empty}", standin)
    gone = await make_app(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/wafa.db", standin)
    try:
        for app, reason in ((behind, "schema is behind"), (gone, "unreachable")):
            transport = httpx.ASGITransport(app=app.http_app())
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.get("/readyz")
                assert answer.status_code == 503 and answer.json()["status"] == "not_ready"
                assert reason in answer.json()["reason"], answer.json()
                assert (await client.get("/healthz")).status_code == 200  # the process itself runs
    finally:
        await behind.close()
        await gone.close()


async def test_metrics_count_updates_latency_outbox_429s_and_api_requests(
    app: App, chat: Chat, http: httpx.AsyncClient, key: str
) -> None:
    member = await join(chat, EMMA)
    await chat.say(EMMA, "/balance")
    chat.standin.user(9999, "Stranger", language_code="en")
    chat.standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=EMMA.id)
    await http.post(
        "/api/v1/purchases", headers=bearer(key), json={"order_id": "M-1", "member": member.code, "amount": "5"}
    )
    await http.post("/api/v1/purchases", json={})
    await chat.deliver_outbox()  # the receipt meets the injected 429 first
    text = (await http.get("/metrics")).text
    assert 'wafa_updates_total{kind="message",outcome="handled"} 2.0' in text
    assert 'wafa_update_handler_seconds_count{kind="message"} 2.0' in text
    assert 'wafa_http_requests_total{route="/api/v1/purchases",status="201"} 1.0' in text
    assert 'wafa_http_requests_total{route="/api/v1/purchases",status="401"} 1.0' in text
    assert "wafa_telegram_429_total 1.0" in text
    assert 'wafa_outbox_rows{status="pending"} 1.0' in text  # the receipt waits out retry_after
    assert 'wafa_outbox_rows{status="sent"} 0.0' in text
    assert 'wafa_bot_api_calls_total{method="sendMessage",outcome="429"} 1.0' in text
    assert "wafa_messages_sent_total" in text


async def test_the_telegram_webhook_route_checks_the_secret_and_hands_over_the_raw_update(app: App, chat: Chat) -> None:
    hook = TelegramWebhook("/telegram/hook", "s3cret-token", update_feeder(app.dispatcher, app.bot))
    chat.register(EMMA)
    chat.standin.send_text(EMMA.id, "/start")
    update = chat.standin.pending_updates()[-1]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app.http_app(telegram=hook)), base_url="http://t"
    ) as c:
        for secret in (None, "wrong", "s3cret-tokenX", "s3cret-toke"):
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
            refused = await c.post("/telegram/hook", json=update, headers=headers)
            assert refused.status_code == 401
        assert chat.standin.messages(EMMA.id) == []
        bad = await c.post("/telegram/hook", content=b"[]", headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
        assert bad.status_code == 400
        accepted = await c.post(
            "/telegram/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        )
        assert accepted.status_code == 200
    assert "Welcome" in chat.standin.messages(EMMA.id)[0].text  # handled inside the request


def test_port_http_host_and_webhook_secret_settings() -> None:
    assert load_settings(_env_file=None).port == 8080 and load_settings(_env_file=None).http_host == "127.0.0.1"
    assert load_settings(port="off").port is None and load_settings(port="OFF").port is None
    assert load_settings(port="0").port == 0
    for bad, name in (
        ({"port": "eighty"}, "PORT"),
        ({"port": "70000"}, "PORT"),
        ({"default_region": "XX"}, "DEFAULT_REGION"),
        ({"webhook_secret": "has space"}, "WEBHOOK_SECRET"),
        ({"http_host": "a b"}, "HTTP_HOST"),
    ):
        with pytest.raises(ConfigError, match=f"^{name}: "):
            load_settings(**bad)
    with pytest.raises(ConfigError, match=r"^WEBHOOK_SECRET: required"):
        require_webhook(load_settings(webhook_url="https://bot.example.com/telegram", webhook_secret=""))
    with pytest.raises(ConfigError, match=r"^PORT: "):
        require_webhook(load_settings(webhook_url="https://bot.example.com/t", webhook_secret="ok", port="off"))
    assert load_settings(default_region="eg").default_region == "EG"


async def test_default_region_comes_from_the_currency(db_url: str, standin: BotAPIStandIn, clock: FakeClock) -> None:
    from bot.domain.program import Program

    app = await make_app(db_url, standin, clock=clock, program=Program(currency="IRT"))
    egypt = await make_app(db_url, standin, clock=clock, program=Program(currency="USD"), default_region="EG")
    dollars = await make_app(db_url, standin, clock=clock, program=Program(currency="USD"))
    try:
        assert (app.ctx.region, egypt.ctx.region, dollars.ctx.region) == ("IR", "EG", None)
    finally:
        for a in (app, egypt, dollars):
            await a.close()


def _env(database: str, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "BOT_TOKEN", "PORT"))}
    return {**keep, "DATABASE_URL": database, "PROGRAM_FILE": "", **extra}


def test_wafa_webhook_without_a_secret_refuses_to_start_naming_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "webhook"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(f"sqlite+aiosqlite:///{tmp_path}/w.db", BOT_TOKEN="123:abc", WEBHOOK_URL="https://bot.example.com/t"),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "wafa: WEBHOOK_SECRET: required for `wafa webhook`, so that only Telegram can post updates "
        "(1-256 characters A-Z, a-z, 0-9, _ or -)"
    ]


def test_wafa_apikey_prints_the_key_alone_lists_and_revokes(tmp_path: Path) -> None:
    env = _env(f"sqlite+aiosqlite:///{tmp_path}/keys.db")

    def wafa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "apikey", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = wafa("create", "pos-1", "--scopes", "purchases:write,members:read")
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.splitlines()) == 1 and created.stdout.startswith("wafa_")
    key = created.stdout.strip()
    listed = wafa("list")
    assert "pos-1" in listed.stdout and key[:9] in listed.stdout and key not in listed.stdout
    assert "members:read,purchases:write" in listed.stdout and "active" in listed.stdout
    assert wafa("create", "pos-1").returncode == 1
    bad_scope = wafa("create", "x", "--scopes", "everything")
    assert bad_scope.returncode == 2 and "unknown scope 'everything'" in bad_scope.stderr
    assert wafa("revoke", "pos-1").returncode == 0
    assert "revoked" in wafa("list").stdout
    assert wafa("revoke", "pos-1").returncode == 1
    assert json.dumps(key)  # a plain ASCII token
