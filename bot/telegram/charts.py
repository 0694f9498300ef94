"""The `/stats` chart: one PNG, drawn with matplotlib's Agg canvas in memory.

Labels arrive translated (the caller runs `_()`). Arabic and Persian need
shaping (joined letter forms) and right-to-left ordering. Matplotlib 3.11
and later lay text out with libraqm, which does both, so logical-order text
is handed over as it is (with `text.language` set); older matplotlib draws
characters one by one, left to right, so there arabic-reshaper joins the
letters and python-bidi orders them first. Doing both would reverse the
text twice. DejaVu Sans, which ships with matplotlib, has the Arabic and
Persian letters (پ چ ژ گ ی ک included) in all their joined forms. No
pyplot: the figure is private to the call, so a worker thread may draw it.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib is imported lazily (start-up time); only its types here
    from matplotlib.typing import RcKeyType

FONT_FAMILY = "DejaVu Sans"
ZWNJ = "\u200c"
COLORS = {
    "active": "#2f6fba",
    "new": "#f0a030",
    "detractors": "#d64545",
    "passives": "#b8b8b8",
    "promoters": "#3a9d5d",
    "issued": "#2f6fba",
    "redeemed": "#3a9d5d",
    "expired": "#9a9a9a",
    "rate": "#6a5acd",
}


@dataclass(frozen=True)
class ChartText:
    """Every word on the chart, already translated and with digits in the reader's set."""

    title: str
    activity_title: str
    active: str
    new: str
    bucket_labels: Sequence[str]
    nps_title: str
    promoters: str
    passives: str
    detractors: str
    no_answers: str
    points_title: str
    points_labels: Sequence[str]  # issued, redeemed, expired
    rates_title: str
    rate_labels: Sequence[str]


@dataclass(frozen=True)
class ChartData:
    active: Sequence[int]
    new: Sequence[int]
    nps_counts: tuple[int, int, int]  # detractors, passives, promoters
    points: tuple[int, int, int]  # issued, redeemed, expired
    rates: Sequence[float | None]  # percent, None = no data


def native_text_layout() -> bool:
    """True when matplotlib shapes and orders complex scripts itself (libraqm, matplotlib ≥ 3.11)."""
    from matplotlib import ft2font

    return bool(getattr(ft2font, "__libraqm_version__", None))


def shaper(rtl: bool, *, native: bool) -> Callable[[str], str]:
    """Turns logical-order text into what this matplotlib must be given to draw it right."""
    if not rtl or native:
        return lambda text: text
    import arabic_reshaper
    from bidi import get_display

    def shape(text: str) -> str:
        lines = [get_display(arabic_reshaper.reshape(line)).replace(ZWNJ, "") for line in text.split("\n")]
        return "\n".join(lines)

    return shape


def font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def render_stats_chart(
    data: ChartData, text: ChartText, *, lang: str, rtl: bool, number: Callable[[float], str],
    percent: Callable[[float], str], native: bool | None = None,
) -> bytes:
    """A 2×2 PNG: activity over time, NPS breakdown, points flow, rates.

    `number` and `percent` format values in the reader's digits; `native`
    (default: detected) says whether matplotlib lays out Arabic script itself.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    native = native_text_layout() if native is None else native
    shape = shaper(rtl, native=native)
    ticks = FuncFormatter(lambda value, _pos: number(int(value)) if float(value).is_integer() else number(value))
    style: dict[RcKeyType, Any] = {"font.family": FONT_FAMILY, "font.size": 10, "axes.titlesize": 11, "axes.titleweight": "bold"}
    if native:
        style["text.language"] = lang  # libraqm picks language-specific forms (Persian vs Arabic)
    with rc_context(style):
        figure = Figure(figsize=(10, 7.5), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(shape(text.title), fontsize=14, fontweight="bold")
        (activity, nps), (points, rates) = figure.subplots(2, 2)

        # Activity: active and new members per bucket.
        positions = list(range(len(data.active)))
        width = 0.4
        activity.bar([p - width / 2 for p in positions], data.active, width, color=COLORS["active"], label=shape(text.active))
        activity.bar([p + width / 2 for p in positions], data.new, width, color=COLORS["new"], label=shape(text.new))
        activity.set_title(shape(text.activity_title))
        activity.set_xticks(positions, [shape(label) for label in text.bucket_labels], fontsize=8)
        if max((len(line) for label in text.bucket_labels for line in label.split("\n")), default=0) > 5:
            # Spelled months on every bar ("9 Ordibehesht") do not fit side by side: slant them.
            activity.tick_params(axis="x", labelrotation=40)
            for tick in activity.get_xticklabels():
                tick.set_horizontalalignment("right")
        activity.yaxis.set_major_locator(MaxNLocator(integer=True))
        activity.yaxis.set_major_formatter(ticks)
        activity.legend(loc="upper left", fontsize=8)
        activity.spines[["top", "right"]].set_visible(False)

        # NPS: one stacked bar of detractors, passives and promoters, in percent.
        nps.set_title(shape(text.nps_title))
        total = sum(data.nps_counts)
        nps.set_xlim(0, 100)
        nps.set_yticks([])
        nps.set_ylim(-1, 1)
        nps.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: percent(value)))
        if total:
            left = 0.0
            names = (text.detractors, text.passives, text.promoters)
            for count, name, key in zip(data.nps_counts, names, ("detractors", "passives", "promoters"), strict=True):
                share = 100 * count / total
                nps.barh([0], [share], height=0.5, left=left, color=COLORS[key], label=shape(f"{name} ({number(count)})"))
                if share >= 8:
                    nps.text(left + share / 2, 0, percent(share), ha="center", va="center", color="white",
                             fontweight="bold")
                left += share
            nps.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8, frameon=False)
        else:
            nps.text(50, 0, shape(text.no_answers), ha="center", va="center", color="#777777")

        # Points issued, redeemed and expired in the period.
        labels = [shape(label) for label in text.points_labels]
        colors = [COLORS["issued"], COLORS["redeemed"], COLORS["expired"]]
        bars = points.bar(labels, data.points, color=colors)
        points.set_title(shape(text.points_title))
        points.yaxis.set_major_formatter(ticks)
        points.bar_label(bars, labels=[number(v) for v in data.points], fontsize=9, padding=2)
        points.margins(y=0.15)
        points.spines[["top", "right"]].set_visible(False)

        # Rates in percent; a missing rate (no data) is drawn as an empty row with a dash.
        rows = list(range(len(data.rates)))[::-1]
        values = [rate or 0.0 for rate in data.rates]
        rates.barh(rows, values, color=COLORS["rate"])
        rates.set_yticks(rows, [shape(label) for label in text.rate_labels])
        rates.set_xlim(0, 115)
        rates.set_xticks([0, 25, 50, 75, 100])
        rates.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: percent(value)))
        for row, rate in zip(rows, data.rates, strict=True):
            label = "—" if rate is None else percent(rate)
            rates.text((rate or 0.0) + 1.5, row, label, va="center", fontsize=9)
        rates.set_title(shape(text.rates_title))
        rates.spines[["top", "right"]].set_visible(False)

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
