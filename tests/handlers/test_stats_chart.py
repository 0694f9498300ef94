"""The /stats chart: Arabic and Persian labels have glyphs and are shaped exactly once."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fontTools.ttLib import TTFont

from bot.app import App
from bot.domain.kpis import Activity, PointsFlow, ProgramStats, Referrals, SeriesPoint, buckets, periods
from bot.domain.surveys import csat, nps
from bot.services import reports
from bot.telegram.charts import font_path, native_text_layout, render_stats_chart, shaper
from bot.telegram.render import Fmt
from bot.telegram.routers.insights import chart_data, chart_text, percent
from tests.support import EMMA, OWNER, SARA, Chat, FakeClock

PNG = b"\x89PNG\r\n\x1a\n"


def sample_stats(clock: FakeClock) -> ProgramStats:
    current, previous = periods(clock(), 30)
    return ProgramStats(
        current, previous,
        Activity(members=120, new_members=14, active=40, repeat_buyers=12, active_previous=35, retained=20, participants=44),
        PointsFlow(issued=9000, redeemed=3000, expired=200, outstanding=25000),
        nps([10, 9, 8, 3, 6, 10]), csat([5, 4, 2]), Referrals(joined=6, converted=3, rewarded=2),
        series=[SeriesPoint(b, i, i % 3) for i, b in enumerate(buckets(current))],
    )


@pytest.mark.parametrize("lang", ["fa", "ar"])
def test_every_chart_label_has_glyphs_in_the_font(app: App, clock: FakeClock, lang: str) -> None:
    cmap = TTFont(font_path()).getBestCmap()
    fmt = Fmt(lang, zone=app.ctx.zone)
    with app.i18n.context(), app.i18n.use_locale(lang):
        text = chart_text(app.ctx, sample_stats(clock), fmt)
    labels = [text.title, text.activity_title, text.active, text.new, text.nps_title, text.promoters, text.passives,
              text.detractors, text.no_answers, text.points_title, text.rates_title, *text.points_labels,
              *text.rate_labels, *text.bucket_labels]
    joined = " ".join(labels)
    assert set("پچژگ") & set(joined) if lang == "fa" else "ي" in joined  # the letters that need checking
    # Both what libraqm draws (logical text) and what the fallback draws (presentation forms).
    for shaped in (joined, shaper(True, native=False)(joined)):
        missing = {hex(ord(c)) for c in shaped if not c.isspace() and ord(c) not in cmap and c != "\u200c"}
        assert missing == set()


def test_text_is_shaped_exactly_once() -> None:
    word = "گزارش"
    assert shaper(True, native=True)(word) == word  # matplotlib with libraqm shapes it itself
    assert shaper(False, native=False)(word) == word
    fallback = shaper(True, native=False)(word)
    assert fallback != word and fallback[0] == "\ufeb5"  # joined presentation forms, right to left: ش last → first
    assert isinstance(native_text_layout(), bool)


@pytest.mark.parametrize("native", [True, False])
def test_chart_renders_with_either_layout(app: App, clock: FakeClock, native: bool) -> None:
    if native and not native_text_layout():
        pytest.skip("this matplotlib has no libraqm")
    fmt = Fmt("fa", zone=app.ctx.zone)
    stats = sample_stats(clock)
    with app.i18n.context(), app.i18n.use_locale("fa"):
        text = chart_text(app.ctx, stats, fmt)
    png = render_stats_chart(chart_data(stats), text, lang="fa", rtl=True, number=fmt.num,
                             percent=lambda v: percent(fmt, v), native=native)
    assert png.startswith(PNG) and len(png) > 20_000


async def test_todays_sign_ups_are_charted_under_today_in_merchant_time(chat: Chat, app: App, clock: FakeClock) -> None:
    """The shop is in Tehran (UTC+3:30): 20:00 UTC is still 10 March there, 21:00 UTC is already 11 March."""
    clock.set(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # 23:30 on 19 Esfand 1404 in Tehran
    await chat.say(EMMA, "/start")
    clock.set(datetime(2026, 3, 10, 21, 0, tzinfo=UTC))  # 00:30 on 20 Esfand
    await chat.say(SARA, "/start")
    clock.set(datetime(2026, 3, 11, 8, 0, tzinfo=UTC))  # 11:30 on 20 Esfand
    stats = await reports.program_stats(app.ctx, actor_id=OWNER.id, days=7)
    fmt = Fmt("fa", zone=app.ctx.zone)
    with app.i18n.context(), app.i18n.use_locale("fa"):
        labels = chart_text(app.ctx, stats, fmt).bucket_labels
    assert [point.new_members for point in stats.series][-2:] == [1, 1]
    assert [label.split("\n")[0] for label in labels[-2:]] == ["۱۹", "۲۰"]  # yesterday's sign-up, today's
    assert len(labels) == 8  # 13 to 20 Esfand: the period starts at 11:30 on the 13th


@pytest.mark.parametrize(("lang", "first", "month"), [("fa", "۱۲", "اسفند"), ("ar", "٣", "مارس"), ("en", "3", "Mar")])
def test_chart_dates_spell_the_month(app: App, clock: FakeClock, lang: str, first: str, month: str) -> None:
    """No `11/8`: a Persian reader takes day/month for month/day. The month is named where it changes."""
    fmt = Fmt(lang, zone=app.ctx.zone)
    current, previous = periods(clock(), 7)
    stats = ProgramStats(
        current, previous, Activity(0, 0, 0, 0, 0, 0, 0), PointsFlow(0, 0, 0, 0), nps([]), csat([]), Referrals(0, 0, 0),
        series=[SeriesPoint(b, 0, 0) for b in buckets(current, app.ctx.zone)],
    )
    with app.i18n.context(), app.i18n.use_locale(lang):
        labels = chart_text(app.ctx, stats, fmt).bucket_labels
    assert labels[0] == f"{first}\n{month}" and all("/" not in label for label in labels)
    assert all(label.endswith("\n") for label in labels[1:])  # same month: named once


def test_long_periods_name_day_month_and_year(app: App, clock: FakeClock) -> None:
    fmt = Fmt("fa", zone=app.ctx.zone)
    current, previous = periods(clock(), 365)
    stats = ProgramStats(
        current, previous, Activity(0, 0, 0, 0, 0, 0, 0), PointsFlow(0, 0, 0, 0), nps([]), csat([]), Referrals(0, 0, 0),
        series=[SeriesPoint(b, 0, 0) for b in buckets(current, app.ctx.zone)],
    )
    with app.i18n.context(), app.i18n.use_locale("fa"):
        labels = chart_text(app.ctx, stats, fmt).bucket_labels
    assert labels[-1] == "۱۹ اسفند"  # 10 March 2026: the last bar ends today
    assert labels[0].endswith(" فروردین ۱۴۰۴")  # the first bar ends early in Farvardin 1404: the year once
    assert sum("۱۴۰" in label for label in labels) == 1 and len(labels) == 12
