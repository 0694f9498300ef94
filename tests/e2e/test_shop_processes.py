"""End to end: `wafa run` as a process serves its HTTP side beside polling; signed
WooCommerce and Shopify webhooks earn and take back, and the customer reads
the notices through the Bot API stand-in."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import signal
from pathlib import Path

import httpx

from standin import BotAPIStandIn, StandInServer
from tests.e2e.test_processes import (
    CUSTOMER,
    e2e_database,
    free_port,
    start_bot,
    wait_polling,
)

FIXTURES = Path(__file__).resolve().parents[1] / "http" / "fixtures"


def signed(secret: str, payload: object) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def wait_http(base: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError((await process.stdout.read()).decode())  # type: ignore[union-attr]
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the HTTP side never answered")


async def test_wafa_run_takes_signed_woocommerce_and_shopify_webhooks(tmp_path: Path, db_url: str) -> None:
    standin = BotAPIStandIn()
    standin.user(CUSTOMER, "Reza", language_code="fa", username="reza")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with StandInServer(standin) as url:
        process = await start_bot(
            url,
            e2e_database(tmp_path, db_url),
            f"{standin.bot_id}:e2e",
            PORT=str(port),
            WOOCOMMERCE_WEBHOOK_SECRET="woo-secret",
            SHOPIFY_WEBHOOK_SECRET="shopify-secret",
            DEFAULT_REGION="IR",
        )
        try:
            await wait_polling(standin, process)
            await wait_http(base, process)
            standin.send_text(CUSTOMER, "/start")
            await standin.wait_for_messages(CUSTOMER, count=3, timeout=15)
            standin.send_contact(CUSTOMER, "989121234567")
            await standin.wait_for_messages(CUSTOMER, count=1, timeout=15)

            order = json.loads((FIXTURES / "woocommerce_order_727.json").read_text())
            order.update(currency="SAR", status="completed")
            order["billing"].update(phone="0912 123 4567", country="IR")
            body, signature = signed("woo-secret", order)
            async with httpx.AsyncClient() as client:
                refused = await client.post(
                    f"{base}/hooks/woocommerce", content=body, headers={"X-WC-Webhook-Signature": "AAAA"}
                )
                assert refused.status_code == 401
                seen = len(standin.messages(CUSTOMER))
                woo = await client.post(
                    f"{base}/hooks/woocommerce",
                    content=body,
                    headers={"X-WC-Webhook-Signature": signature, "X-WC-Webhook-Topic": "order.updated"},
                )
                assert woo.status_code == 200 and woo.json()["results"][0]["outcome"] == "earned", woo.text
                notice = await standin.wait_for_messages(CUSTOMER, timeout=15, after=seen)
                assert "۱۹ امتیاز" in notice[0].text  # 29.35 less 10.00 shipping, in Persian digits

                paid = json.loads((FIXTURES / "shopify_orders_paid.json").read_text())
                paid["customer"]["phone"] = "+989121234567"
                paid["total_price_set"]["shop_money"]["currency_code"] = "SAR"
                body, signature = signed("shopify-secret", paid)
                seen = len(standin.messages(CUSTOMER))
                shop = await client.post(
                    f"{base}/hooks/shopify",
                    content=body,
                    headers={"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "orders/paid"},
                )
                assert shop.json()["results"][0]["outcome"] == "earned", shop.text
                notice = await standin.wait_for_messages(CUSTOMER, timeout=15, after=seen)
                assert "۳۹۳ امتیاز" in notice[0].text and "۴۳۲ امتیاز" in notice[0].text  # 20 + 19 + 393

                refund = json.loads((FIXTURES / "shopify_refunds_create.json").read_text())
                body, signature = signed("shopify-secret", refund)
                seen = len(standin.messages(CUSTOMER))
                back = await client.post(
                    f"{base}/hooks/shopify",
                    content=body,
                    headers={"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "refunds/create"},
                )
                assert back.json()["results"][0]["reversed"] == 75
                notice = await standin.wait_for_messages(CUSTOMER, timeout=15, after=seen)
                assert "۷۵ امتیاز" in notice[0].text and "۳۵۷ امتیاز" in notice[0].text

                assert (await client.get(f"{base}/readyz")).status_code == 200
                metrics = (await client.get(f"{base}/metrics")).text
                assert 'wafa_http_requests_total{route="/hooks/{platform}",status="401"} 1.0' in metrics
                assert 'wafa_updates_total{kind="message",outcome="handled"}' in metrics
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0


async def test_wafa_demo_serves_http_and_a_curl_purchase_reaches_the_chat(tmp_path: Path) -> None:
    """The README's newcomer path: `wafa demo`, a key from `wafa apikey create`, a purchase and
    a refund over HTTP, and Emma told in the terminal chat."""
    import os
    import sys

    database = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN"}}
    env.update(PORT="0", NO_PROXY="127.0.0.1,localhost")
    root = Path(__file__).resolve().parents[2]
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--fresh",
        "--database",
        str(database),
        cwd=root,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert demo.stdin is not None and demo.stdout is not None
    seen: list[str] = []

    async def read_until(marker: str) -> str:
        while True:
            line = (await asyncio.wait_for(demo.stdout.readline(), 60)).decode()  # type: ignore[union-attr]
            if not line:
                raise AssertionError("".join(seen))
            seen.append(line)
            if marker in line:
                return line

    try:
        address = (await read_until("The shop's HTTP side is on")).split(" on ")[1].split(" ")[0]
        demo.stdin.write(b":as en\n/start\n")
        await read_until("Optional: tell me your birthday")
        made = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "apikey",
            "create",
            "pos",
            cwd=root,
            env={**env, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
            stdout=asyncio.subprocess.PIPE,
        )
        key = (await made.communicate())[0].decode().strip()
        async with httpx.AsyncClient() as client:
            headers = {"Authorization": f"Bearer {key}"}
            bought = await client.post(
                f"{address}/api/v1/purchases",
                headers=headers,
                json={"order_id": "A-1001", "member": "@emma_demo", "amount": "120"},
            )
            assert bought.status_code == 201, bought.text
            assert "You earned 120 points" in await read_until("You earned")
            back = await client.post(
                f"{address}/api/v1/refunds",
                headers=headers,
                json={"refund_id": "R-1", "order_id": "A-1001", "amount": "50"},
            )
            assert back.status_code == 201, back.text
            assert "Your balance is 90 points" in await read_until("taken back")
        demo.stdin.write(b":quit\n")
        await demo.stdin.drain()
        await asyncio.wait_for(demo.wait(), 60)
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
    assert demo.returncode == 0, "".join(seen)
