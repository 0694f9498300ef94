"""Issue 13's "done when", as a newcomer does it: `wafa demo` prints a Mini App link;
opened, it is Sara's card in Persian; a reward redeemed there gives a voucher that
`/redeem` accepts in the terminal chat."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx


async def test_the_demo_link_opens_saras_card_and_its_voucher_works_in_the_chat(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN", "PUBLIC_URL"}}
    env.update(PORT="0", NO_PROXY="127.0.0.1,localhost")
    root = Path(__file__).resolve().parents[2]
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(tmp_path / "demo.db"),
        cwd=root, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
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
        await read_until("The Mini App")
        sara_link = (await read_until("/app/#tgWebAppData=")).strip()
        fragment = parse_qs(urlsplit(sara_link).fragment)
        headers = {"Authorization": "tma " + fragment["tgWebAppData"][0]}
        demo.stdin.write(b":as fa\n/start\n:as owner\n/award @sara_demo 200\n")
        await read_until("New balance")
        base = sara_link.split("/app/")[0]
        async with httpx.AsyncClient() as client:
            page = await client.get(sara_link.split("#")[0])
            assert page.status_code == 200 and "app.js" in page.text
            card = (await client.get(f"{base}/app/api/me", headers=headers)).json()
            assert card["balance_text"] == "۲۲۰ امتیاز" and card["dir"] == "rtl" and card["first_name"] == "سارا"
            rewards = (await client.get(f"{base}/app/api/rewards", headers=headers)).json()
            coffee = next(r for r in rewards["rewards"] if r["name"] == "قهوه رایگان")
            done = await client.post(f"{base}/app/api/rewards/{coffee['id']}/redeem", headers=headers,
                                     json={"token": coffee["token"]})
            assert done.status_code == 201, done.text
            code = done.json()["voucher"]["code"]
        demo.stdin.write(f"/redeem {code}\n".encode())
        assert "is valid and is now marked as used" in await read_until("marked as used")
        demo.stdin.write(b":quit\n")
        await demo.stdin.drain()
        await asyncio.wait_for(demo.wait(), 60)
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
    assert demo.returncode == 0, "".join(seen)
