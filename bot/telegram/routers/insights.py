"""The owner's view: /stats [days] (text and a chart) and /export (CSV files) (SPEC §4)."""
from __future__ import annotations

import asyncio
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jdatetime
from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, FSInputFile, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import get_month_names
from hijridate import Gregorian

from bot.domain.delivery import DeliveryStatus
from bot.domain.errors import DomainError
from bot.domain.kpis import ProgramStats, parse_days
from bot.domain.program import pick_text
from bot.domain.surveys import round_half_up
from bot.i18n import RTL
from bot.services import exports, reports
from bot.telegram.charts import ChartData, ChartText, render_stats_chart
from bot.telegram.errors import describes, echo
from bot.telegram.filters import IsOwner
from bot.telegram.render import Fmt, isolate


# -- formatting -------------------------------------------------------------------
def percent(fmt: Fmt, value: Decimal | float | None) -> str:
    """A share in percent, rounded, in the reader's digits; a dash when there is no data."""
    if value is None:
        return "—"
    sign = "%" if fmt.digits == "latin" else "٪"
    return fmt.num(round_half_up(Decimal(str(value)))) + sign


def signed(fmt: Fmt, value: int) -> str:
    """NPS with its sign (+20, −15), kept left-to-right inside Arabic and Persian text."""
    return isolate(("+" if value > 0 else "−" if value < 0 else "") + fmt.num(abs(value)))


def calendar_day(fmt: Fmt, day: date) -> tuple[int, str, int, int]:
    """(day of month, month name, month number, year) in the reader's calendar."""
    if fmt.calendar == "jalali":
        jalali = jdatetime.date.fromgregorian(date=day)
        return jalali.day, jalali.j_months_fa[jalali.month - 1], jalali.month, jalali.year
    if fmt.calendar == "hijri":
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
        return hijri.day, hijri.month_name("ar"), hijri.month, hijri.year
    return day.day, get_month_names("abbreviated", locale=fmt.lang)[day.month], day.month, day.year


def bucket_labels(stats: ProgramStats, fmt: Fmt) -> list[str]:
    """Chart axis labels: each bar under the last day it counts, in merchant time.

    Daily bars: the day number, and under it the month name, spelled, where the
    month changes (no `11/8`, which a Persian reader takes for month/day). Bars
    of a month or more: day and month, with the year where it changes.
    """
    days = [point.period.last_day(fmt.zone) for point in stats.series]
    monthly = len(days) > 1 and (days[1] - days[0]).days >= 28
    parts = [calendar_day(fmt, day) for day in days]
    labels = []
    for index, (number, month, month_number, year) in enumerate(parts):
        previous = parts[index - 1] if index else None
        if monthly:
            new_year = previous is None or previous[3] != year
            labels.append(fmt.digits_of(f"{number} {month} {year}" if new_year else f"{number} {month}"))
            continue
        new_month = previous is None or previous[2:] != (month_number, year)
        if index == 0 and len(parts) > 1 and parts[1][2] != month_number:
            new_month = False  # the next bar names the new month; two names side by side collide
        labels.append(fmt.digits_of(f"{number}\n{month if new_month else ''}"))
    return labels


def period_text(stats: ProgramStats, fmt: Fmt) -> str:
    days = stats.period.days
    return ngettext("last {count} day", "last {count} days", days).format(count=fmt.num(days))


def nps_text(stats: ProgramStats, fmt: Fmt) -> str:
    result = stats.nps
    if result.score is None:
        return _("⭐ NPS: no answers yet")
    return _("⭐ NPS: {score} · answers: {count} (promoters {promoters}, passives {passives}, detractors {detractors})").format(
        score=signed(fmt, result.score), count=fmt.num(result.answers), promoters=fmt.num(result.promoters),
        passives=fmt.num(result.passives), detractors=fmt.num(result.detractors),
    )


def csat_text(stats: ProgramStats, fmt: Fmt) -> str:
    result = stats.csat
    if result.score is None or result.average is None:
        return _("😊 CSAT: no answers yet")
    return _("😊 CSAT: {score} satisfied · answers: {count} · average {average} out of {top}").format(
        score=percent(fmt, result.score), count=fmt.num(result.answers), average=fmt.num(result.average),
        top=fmt.num(5),
    )


def stats_text(ctx: Any, stats: ProgramStats, fmt: Fmt) -> str:
    activity, points, referrals = stats.activity, stats.points, stats.referrals
    lines = [
        _("📊 <b>{merchant}</b> KPIs · {period}").format(merchant=fmt.name(ctx.program.name), period=period_text(stats, fmt)),
        f"{fmt.date(stats.period.start)} – {fmt.date(stats.period.end)}",
        "",
        _("👥 Members: {members} · new: {new}").format(
            members=fmt.num(activity.members), new=fmt.num(activity.new_members)
        ),
        _("🛒 Active (at least one purchase): {active} · {share} of members").format(
            active=fmt.num(activity.active), share=percent(fmt, stats.active_share)
        ),
        _("🔁 Repeat-purchase rate: {rate}").format(rate=percent(fmt, stats.repeat_rate)),
        _("📈 Retention: {retention} · churn: {churn} (of {count} members active in the previous period)").format(
            retention=percent(fmt, stats.retention), churn=percent(fmt, stats.churn),
            count=fmt.num(activity.active_previous),
        ),
        _("🙌 Participation (bought or redeemed): {rate}").format(rate=percent(fmt, stats.participation)),
        nps_text(stats, fmt),
        csat_text(stats, fmt),
        _("💰 Points: {issued} issued · {redeemed} redeemed · {expired} expired").format(
            issued=fmt.num(points.issued), redeemed=fmt.num(points.redeemed), expired=fmt.num(points.expired)
        ),
        _("🏦 Outstanding points (the program's liability): {points}").format(points=fmt.num(points.outstanding)),
        _("🤝 Referrals: joined {joined} · first purchase {converted} · rewarded {rewarded}").format(
            joined=fmt.num(referrals.joined), converted=fmt.num(referrals.converted),
            rewarded=fmt.num(referrals.rewarded),
        ),
    ]
    if stats.top_rewards:
        lines.append(
            _("🎁 Top rewards: {rewards}").format(
                rewards=" · ".join(
                    _("{reward} ×{issued} (used {used})").format(
                        reward=fmt.name(item.name), issued=fmt.num(item.issued), used=fmt.num(item.used)
                    )
                    for item in stats.top_rewards
                )
            )
        )
    lines.extend(earning_lines(ctx, stats, fmt))
    lines.extend(recovery_lines(stats, fmt))
    messages = stats.messages
    if messages:
        lines.append(
            _("✉️ Messages: {sent} sent · {waiting} waiting · {blocked} blocked or opted out · "
              "{failed} failed · {unknown} fate unknown").format(
                sent=fmt.num(messages.get(DeliveryStatus.SENT, 0)),
                waiting=fmt.num(messages.get(DeliveryStatus.PENDING, 0) + messages.get(DeliveryStatus.SENDING, 0)),
                blocked=fmt.num(messages.get(DeliveryStatus.BLOCKED, 0) + messages.get(DeliveryStatus.OPTED_OUT, 0)),
                failed=fmt.num(messages.get(DeliveryStatus.FAILED, 0)),
                unknown=fmt.num(messages.get(DeliveryStatus.UNKNOWN, 0)),
            )
        )
    return "\n".join(lines)


def earning_lines(ctx: Any, stats: ProgramStats, fmt: Fmt) -> list[str]:
    """Stamp cards, earning actions and recognition in the period (only what the program has)."""
    earning, program, lines = stats.earning, ctx.program, []
    if program.stamps is not None:
        lines.append(_("☕ Stamps: {given} given · {cards} cards completed (each a voucher) · {lapsed} expired · "
                       "{on_cards} on cards now").format(
            given=fmt.num(earning.stamps_given), cards=fmt.num(earning.cards_completed),
            lapsed=fmt.num(earning.stamps_lapsed), on_cards=fmt.num(earning.stamps_on_cards),
        ))
    for action in program.actions:
        done, points = earning.actions.get(action.id, (0, 0))
        lines.append(_("🎯 {action}: done {count} times · {points} given").format(
            action=fmt.name(action.name), count=fmt.num(done), points=fmt.num(points)
        ))
    if program.milestones or any(t.entry_points or t.entry_reward for t in program.tiers):
        lines.append(_("🏆 Milestones reached: {milestones} · tier welcome gifts: {gifts}").format(
            milestones=fmt.num(earning.milestones), gifts=fmt.num(earning.tier_gifts)
        ))
    return lines


def delay_text(fmt: Fmt, delay: timedelta | None) -> str:
    if delay is None:
        return "—"
    minutes = int(delay.total_seconds() // 60)
    if minutes < 120:
        return ngettext("{count} minute", "{count} minutes", minutes).format(count=fmt.num(minutes))
    hours = minutes // 60
    return ngettext("{count} hour", "{count} hours", hours).format(count=fmt.num(hours))


def recovery_lines(stats: ProgramStats, fmt: Fmt) -> list[str]:
    """Service recovery in the period: alerts, what staff did, whether members felt it was made right."""
    rec, lines = stats.recovery, []
    if rec.alerts:
        lines.append(_("🩹 Service recovery: {alerts} alerts · {handled} handled · {resolved} resolved ({share}) · "
                       "median time to first action {delay}").format(
            alerts=fmt.num(rec.alerts), handled=fmt.num(rec.handled), resolved=fmt.num(rec.resolved),
            share=percent(fmt, rec.resolved_share), delay=delay_text(fmt, rec.median_first_action),
        ))
        lines.append(_("🙂 Made right? {asked} asked · {answered} answered · recovered {share} · "
                       "{points} goodwill points").format(
            asked=fmt.num(rec.asked), answered=fmt.num(rec.answered), share=percent(fmt, rec.recovered_share),
            points=fmt.num(rec.goodwill_points),
        ))
    if rec.surprises:
        lines.append(_("🎁 Surprises: {count} gifts · {points} points").format(
            count=fmt.num(rec.surprises), points=fmt.num(rec.surprise_points)))
    return lines


def chart_text(ctx: Any, stats: ProgramStats, fmt: Fmt) -> ChartText:
    nps = stats.nps
    if nps.score is None:
        nps_title = _("NPS")
    else:
        nps_title = ngettext("NPS {score} · {count} answer", "NPS {score} · {count} answers", nps.answers).format(
            score=("+" if nps.score > 0 else "") + fmt.num(nps.score), count=fmt.num(nps.answers)
        )
    return ChartText(
        title=f"{pick_text(ctx.program.name, fmt.lang)} — {period_text(stats, fmt)}",
        activity_title=_("Active and new members"),
        active=_("Active"),
        new=_("New"),
        bucket_labels=bucket_labels(stats, fmt),
        nps_title=nps_title,
        promoters=_("Promoters"),
        passives=_("Passives"),
        detractors=_("Detractors"),
        no_answers=_("No answers yet"),
        points_title=_("Points · outstanding {points}").format(points=fmt.num(stats.points.outstanding)),
        points_labels=[_("Issued"), _("Redeemed"), _("Expired")],
        rates_title=_("Rates"),
        rate_labels=[_("Repeat purchase"), _("Retention"), _("Churn"), _("Participation"), _("CSAT")],
    )


def chart_data(stats: ProgramStats) -> ChartData:
    def as_float(value: Decimal | int | None) -> float | None:
        return None if value is None else float(value)

    return ChartData(
        active=[point.active for point in stats.series],
        new=[point.new_members for point in stats.series],
        nps_counts=(stats.nps.detractors, stats.nps.passives, stats.nps.promoters),
        points=(stats.points.issued, stats.points.redeemed, stats.points.expired),
        rates=[
            as_float(stats.repeat_rate), as_float(stats.retention), as_float(stats.churn),
            as_float(stats.participation), as_float(stats.csat.score),
        ],
    )


async def stats_chart(ctx: Any, stats: ProgramStats, fmt: Fmt) -> bytes:
    """The PNG, drawn in a worker thread so the bot keeps answering meanwhile."""
    text = chart_text(ctx, stats, fmt)  # translated here, where the reader's locale is set
    return await asyncio.to_thread(
        render_stats_chart,
        chart_data(stats),
        text,
        lang=fmt.lang,
        rtl=fmt.lang in RTL,
        number=fmt.num,
        percent=lambda value: percent(fmt, value),
    )


# -- handlers ---------------------------------------------------------------------
async def show_stats(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    days = parse_days(command.args)
    stats = await reports.program_stats(ctx, actor_id=message.from_user.id, days=days)
    await message.answer(stats_text(ctx, stats, fmt))
    await message.bot.send_chat_action(message.chat.id, "upload_photo")  # type: ignore[union-attr]
    png = await stats_chart(ctx, stats, fmt)
    await message.answer_photo(
        BufferedInputFile(png, filename="wafa-stats.png"),
        caption=_("📈 {merchant} at a glance · {period}").format(merchant=fmt.name(ctx.program.name), period=period_text(stats, fmt)),
    )


TABLE_NAMES = {
    "members": lambda: _("Members"), "ledger": lambda: _("Points ledger"), "surveys": lambda: _("Survey answers"),
    "stamps": lambda: _("Stamp ledger"), "recovery": lambda: _("Service recovery cases"),
    "surprises": lambda: _("Surprise gifts"), "draw_entries": lambda: _("Prize draw entries"),
}


async def export(message: Message, command: CommandObject, ctx: Any, fmt: Fmt) -> None:
    assert message.from_user is not None
    if (command.args or "").strip():
        await message.answer(_("/export takes no arguments: it sends members, the points ledger and survey answers."))
        return
    await message.answer(_("📦 Preparing the export…"))
    with tempfile.TemporaryDirectory(prefix="wafa-export-") as directory:
        files = await exports.export_csv(ctx, actor_id=message.from_user.id, directory=Path(directory))
        for file in files:
            caption = ngettext("{table}: {count} row", "{table}: {count} rows", file.rows).format(
                table=TABLE_NAMES[file.table](), count=fmt.num(file.rows)
            )
            if file.parts > 1:
                caption += " " + _("(part {part} of {parts})").format(part=fmt.num(file.part), parts=fmt.num(file.parts))
            await message.answer_document(FSInputFile(file.path, filename=file.name), caption=caption)
    await message.answer(
        _("Done. The files are UTF-8 CSV with a header row; times are in {zone}. "
          "Excel, LibreOffice and Google Sheets open them with Arabic and Persian intact.").format(
            zone=isolate(str(ctx.zone))
        )
    )


@describes("invalid_period")
def _invalid_period(error: DomainError, fmt: Fmt) -> str:
    return _("{text} is not a number of days. Send a whole number from {minimum} to {maximum}, e.g. /stats 30.").format(
        text=echo(error.details.get("text", "")),
        minimum=fmt.num(error.details["minimum"]),
        maximum=fmt.num(error.details["maximum"]),
    )


def create_router() -> Router:
    router = Router(name="insights")
    router.message.filter(IsOwner)
    router.message.register(show_stats, Command("stats"))
    router.message.register(export, Command("export"))
    return router
