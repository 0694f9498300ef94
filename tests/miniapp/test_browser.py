"""The Mini App in a real browser: Debian's headless Chromium, driven by Selenium,
loading the real pages from a running server (uvicorn on a free port), with
`window.Telegram.WebApp` provided by the test the way Telegram's app provides it.

Skips only when Chromium is not installed (CI installs it: `.ci/run`).
Screenshots go to `tests/artifacts/` (not committed); with
`WAFA_DOCS_SCREENSHOTS=1` the fa card and the cashier screen are also written
to `docs/` for the README.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.demo.terminal import PERSONAS, miniapp_link
from bot.http.server import HttpServer
from tests.handlers.rewards_support import add_reward, join, member_of
from tests.miniapp.conftest import init_data
from tests.support import CASHIER, EMMA, OWNER, SARA, TOKEN, Chat, FakeClock, Person

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="Debian chromium and chromium-driver are not installed (CI installs them)",
)
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
WIDTH = 360  # a small phone

FAKE_WEBAPP = """
window.__tg = {main: null, back: null, scans: [], opened: [], nextScan: null, ready: false};
(function () {
  var data = %(init)s;
  if (!data) return;
  window.Telegram = {WebApp: {
    initData: data, initDataUnsafe: {user: %(user)s}, version: "8.0", platform: "android", colorScheme: "light",
    themeParams: {bg_color: "#ffffff", text_color: "#000000", hint_color: "#707579", link_color: "#3390ec",
                  button_color: "#3390ec", button_text_color: "#ffffff", secondary_bg_color: "#f1f1f4"},
    isVersionAtLeast: function () { return true; },
    ready: function () { window.__tg.ready = true; }, expand: function () {}, onEvent: function () {},
    BackButton: {isVisible: false, show: function () { this.isVisible = true; },
                 hide: function () { this.isVisible = false; }, onClick: function (f) { window.__tg.back = f; }},
    MainButton: {text: "", isVisible: false, setText: function (t) { this.text = t; },
                 show: function () { this.isVisible = true; }, hide: function () { this.isVisible = false; },
                 enable: function () {}, disable: function () {}, showProgress: function () {}, hideProgress: function () {},
                 onClick: function (f) { window.__tg.main = f; }},
    showScanQrPopup: function (params, callback) {
      window.__tg.scans.push(params);
      var text = window.__tg.nextScan;
      setTimeout(function () { callback(text); }, 10);
    },
    closeScanQrPopup: function () {},
    openTelegramLink: function (url) { window.__tg.opened.push(url); }
  }};
})();
"""


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="wafa-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={WIDTH},800", "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_window_size(WIDTH, 800)
        driver.execute_cdp_cmd("Network.enable", {})
        # No network in tests: Telegram's script is not fetched (the test provides window.Telegram.WebApp).
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*telegram.org*"]})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
async def server(app: App) -> AsyncIterator[str]:
    http = HttpServer(app.http_app(), host="127.0.0.1", port=0)
    await http.start()
    try:
        yield http.address
    finally:
        await http.stop()


def open_as(driver: Any, address: str, person: Person | None, clock: FakeClock) -> None:
    user = None
    data = ""
    if person is not None:
        data = init_data(person, clock())
        user = {"id": person.id, "first_name": person.first_name, "language_code": person.language_code}
    script = FAKE_WEBAPP % {"init": json.dumps(data), "user": json.dumps(user)}
    added = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})
    try:
        driver.get(address + "/app/")
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]})


def text_of(driver: Any, selector: str, timeout: float = 20, contains: str = "") -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d: Any) -> str | bool:
        found = d.find_elements(By.CSS_SELECTOR, selector)
        if found and found[0].text.strip() and contains in found[0].text:
            return str(found[0].text)
        return False

    result: str = WebDriverWait(driver, timeout).until(ready)
    return result


def click(driver: Any, selector: str) -> None:
    from selenium.webdriver.common.by import By

    text_of(driver, selector)
    driver.find_element(By.CSS_SELECTOR, selector).click()


def shot(driver: Any, name: str, *, docs: str | None = None) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    if docs and os.environ.get("WAFA_DOCS_SCREENSHOTS") == "1":
        driver.save_screenshot(str(ROOT / "docs" / docs))


def fits_the_phone(driver: Any) -> bool:
    return bool(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"))


async def in_browser(step: Callable[[], Any]) -> Any:
    """Selenium blocks: run it in a thread so the server in this loop keeps answering."""
    return await asyncio.to_thread(step)


async def test_the_card_in_persian_and_in_english(
    app: App, chat: Chat, browser: Any, server: str, clock: FakeClock
) -> None:
    sara = await join(chat, app, SARA, 120)
    await join(chat, app, EMMA, 1379)

    def persian() -> None:
        open_as(browser, server, SARA, clock)
        assert text_of(browser, "#balance") == "۱۴۰ امتیاز"
        assert browser.execute_script("return [document.documentElement.dir, document.documentElement.lang]") == [
            "rtl", "fa"]
        assert text_of(browser, "#code") == sara.code
        assert text_of(browser, "#tab-rewards") == "جایزه‌ها"
        assert browser.execute_script("return window.__tg.ready && !Telegram.WebApp.BackButton.isVisible")
        assert browser.execute_script(
            "return getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        assert browser.execute_script("return document.getElementById('qr').naturalWidth > 0")
        assert fits_the_phone(browser)
        shot(browser, "card-fa", docs="miniapp-card-fa.png")
        # Another tab shows Telegram's BackButton; pressing it comes back to the card.
        click(browser, "#tab-history")
        text_of(browser, "#history", contains="+۱۲۰")
        assert browser.execute_script("return Telegram.WebApp.BackButton.isVisible")
        shot(browser, "history-fa")
        browser.execute_script("window.__tg.back()")
        assert text_of(browser, "#balance") == "۱۴۰ امتیاز"
        click(browser, "#tab-invite")
        text_of(browser, "#invite-link", contains=f"start=ref-{sara.code}")
        click(browser, "#share")
        assert browser.execute_script("return window.__tg.opened")[0].startswith("https://t.me/share/url?")
        shot(browser, "invite-fa")

    def english() -> None:
        open_as(browser, server, EMMA, clock)
        assert text_of(browser, "#balance") == "1,399 points"
        assert browser.execute_script("return document.documentElement.dir") == "ltr"
        assert text_of(browser, "#tab-rewards") == "Rewards"
        shot(browser, "card-en")

    await in_browser(persian)
    await in_browser(english)


async def test_a_redeem_from_the_page_gives_a_voucher_the_counter_accepts(
    app: App, chat: Chat, browser: Any, server: str, clock: FakeClock
) -> None:
    mug = await add_reward(app, cost=100)
    await join(chat, app, SARA, 180)

    def redeem() -> str:
        open_as(browser, server, SARA, clock)
        text_of(browser, "#balance")
        click(browser, "#tab-rewards")
        shot(browser, "rewards-fa")
        click(browser, f"button[data-reward='{mug.id}']")
        text_of(browser, "#confirm")
        assert browser.execute_script("return Telegram.WebApp.MainButton.isVisible && Telegram.WebApp.MainButton.text") \
            == "بله، دریافت می‌کنم"
        assert browser.execute_script("return Telegram.WebApp.BackButton.isVisible")
        # Telegram's MainButton confirms; a double tap sends one request.
        browser.execute_script("window.__tg.main(); window.__tg.main();")
        code = text_of(browser, "#redeemed .voucher-code")
        assert not browser.execute_script("return Telegram.WebApp.MainButton.isVisible")
        shot(browser, "voucher-fa")
        return code

    code = await in_browser(redeem)
    assert (await member_of(app, SARA)).balance == 100
    reply = await chat.reply_text(OWNER, f"/redeem {code}")
    assert "is valid and is now marked as used" in reply


async def test_the_cashier_scans_a_member_and_awards(
    app: App, chat: Chat, browser: Any, server: str, clock: FakeClock
) -> None:
    emma = await join(chat, app, EMMA)
    await chat.say(CASHIER, "/start")  # staff are people who opened the bot
    await chat.say(OWNER, f"/staff add {CASHIER.id}")
    link = f"https://t.me/{chat.standin.username}?start=m-{emma.code}"

    def award() -> str:
        from selenium.webdriver.common.by import By

        open_as(browser, server, CASHIER, clock)
        click(browser, "#tab-cashier")
        text_of(browser, "#scan-member", contains="QR")
        assert browser.execute_script("return document.documentElement.dir") == "rtl"
        browser.execute_script("window.__tg.nextScan = arguments[0]", link)
        click(browser, "#scan-member")
        browser.find_element(By.ID, "amount").send_keys("۱۲۰")
        assert browser.find_element(By.ID, "member").get_attribute("value") == link
        assert browser.execute_script("return Telegram.WebApp.MainButton.text") == "ثبت خرید"
        shot(browser, "cashier-fa")
        browser.execute_script("window.__tg.main()")
        result = text_of(browser, "#award-result", contains="✅")
        assert fits_the_phone(browser)
        shot(browser, "cashier-awarded-fa", docs="miniapp-cashier-fa.png")
        return result

    result = await in_browser(award)
    assert "۱۲۰" in result and "۱۴۰" in result
    assert (await member_of(app, EMMA)).balance == 140


async def test_outside_telegram_the_page_says_so_and_the_demo_link_opens_a_card(
    app: App, chat: Chat, browser: Any, server: str, clock: FakeClock
) -> None:
    tricky = Person(PERSONAS["fa"].user_id, "<img src=x onerror=window.__pwned=1>", "fa", "sara_demo")
    await join(chat, app, tricky, 50)

    def outside() -> None:
        open_as(browser, server, None, clock)
        assert "open it from the bot's menu button in Telegram" in text_of(browser, "#outside")
        shot(browser, "outside-en")
        # The demo's link: init data in the URL's fragment, no Telegram app at all.
        browser.get("about:blank")  # a new document, not a jump within this one
        browser.get(miniapp_link(server, TOKEN, PERSONAS["fa"], now=clock()))
        assert text_of(browser, "#balance") == "۷۰ امتیاز"
        assert "بیرون از تلگرام" in text_of(browser, "#banner")
        assert text_of(browser, "#first-name") == "<img src=x onerror=window.__pwned=1>"  # text, not markup
        assert browser.execute_script("return document.querySelectorAll('#card img').length") == 0
        assert not browser.execute_script("return window.__pwned")
        shot(browser, "demo-fa")

    await in_browser(outside)


async def test_the_owner_sees_the_stats_and_a_stranger_is_told_to_join(
    app: App, chat: Chat, browser: Any, server: str, clock: FakeClock
) -> None:
    await join(chat, app, SARA, 120)
    stranger = Person(1098, "Nima", "fa", "nima")

    def owner() -> None:
        open_as(browser, server, OWNER, clock)
        assert text_of(browser, "#tab-cashier") == "Cashier"
        click(browser, "#tab-stats")
        assert "Members: 1" in text_of(browser, "#stats", timeout=60)
        assert browser.execute_script("return document.querySelector('img.chart').naturalWidth > 0")
        shot(browser, "stats-en")
        open_as(browser, server, stranger, clock)
        assert "/start" in text_of(browser, "#refused")
        assert browser.execute_script("return document.documentElement.dir") == "rtl"
        shot(browser, "not-a-member-fa")

    await in_browser(owner)
