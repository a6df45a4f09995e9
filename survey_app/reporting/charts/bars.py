"""Charts of patient activation over months: the spread of ratings, and the share low.

:func:`distribution_svg` draws one 100% stacked bar per month, ratings 1 to 4
from the bottom up. Each segment differs in shade *and* carries its rating's
number when there is room; the two low ratings (1 and 2) are also hatched, so
"low activation" is the hatched part of each bar without relying on colour.

:func:`interval_svg` draws one point per month with its confidence interval as
a whisker (e.g. the share rated low with its Wilson interval).

Both use the time-axis positions of :func:`survey_app.reporting.charts.xmr.x_positions`,
and mark a hidden or empty month with a dashed square under the axis instead of
a bar or point, named in its tooltip and in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from survey_app.reporting.charts._svg import (
    GRID,
    SECONDARY,
    TEXT,
    WHITE,
    WIDE,
    check_size,
    element,
    font_size,
    format_number,
    make_id,
    nice_ticks,
    readable_on,
    svg_root,
    text,
    text_width,
    titled,
)
from survey_app.reporting.charts.xmr import (
    MARGIN_LEFT,
    MARGIN_RIGHT,
    TimeLayout,
    axis_titles,
    legend_label,
    line_height,
    time_layout,
    x_positions,
)

__all__ = [
    "RATING_FILLS",
    "Interval",
    "distribution_svg",
    "interval_svg",
]

#: Fill of each rating 1-4: NHS dark blue to pale blue, lowest rating darkest.
RATING_FILLS: tuple[str, ...] = ("#003087", "#005eb8", "#41b6e6", "#c8e8f7")
_HATCHED = (0, 1)  # indices of the ratings that count as low activation


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its interval, on the chart's scale (e.g. percent)."""

    estimate: float
    lower: float
    upper: float


def _check_labels(labels: Sequence[str], count: int, name: str) -> None:
    if not labels:
        raise ValueError("labels must not be empty")
    if count != len(labels):
        raise ValueError(f"{name} has {count} entries for {len(labels)} labels")


def _reasons(reasons: Sequence[str | None] | None, count: int) -> list[str | None]:
    if reasons is None:
        return [None] * count
    if len(reasons) != count:
        raise ValueError(f"hidden_reasons has {len(reasons)} entries for {count} labels")
    return list(reasons)


def _y(value: float, top: float, bottom: float, lo: float, hi: float) -> float:
    return bottom - (value - lo) / (hi - lo) * (bottom - top)


def _axes(labels: Sequence[str], xs: Sequence[float], layout: TimeLayout,
          ticks: Sequence[float], lo: float, hi: float, unit: str) -> list[str]:
    """Gridlines with the y-axis ticks, and the x axis with as many month labels as fit."""
    width, top, bottom, font = layout.width, layout.top, layout.bottom, layout.font
    step = ticks[1] - ticks[0] if len(ticks) > 1 else None
    y_parts = []
    for tick in ticks:
        y = _y(tick, top, bottom, lo, hi)
        y_parts.append(element("line", {"class": "gridline", "x1": float(MARGIN_LEFT),
                                        "x2": float(width - MARGIN_RIGHT), "y1": y, "y2": y,
                                        "stroke": GRID, "stroke-width": 1.0}))
        y_parts.append(element("text", {"class": "tick-label", "x": MARGIN_LEFT - 6.0,
                                        "y": y + font / 3, "text-anchor": "end",
                                        "font-size": font, "fill": SECONDARY},
                               text(f"{format_number(tick, step)}{unit}")))
    slot = (width - MARGIN_LEFT - MARGIN_RIGHT) / len(labels)
    every = max(1, math.ceil((max(text_width(label, font) for label in labels) + 8)
                             / slot))
    x_parts = [element("line", {"class": "axis", "x1": float(MARGIN_LEFT),
                                "x2": float(width - MARGIN_RIGHT), "y1": bottom, "y2": bottom,
                                "stroke": SECONDARY, "stroke-width": 1.0})]
    for i, (x, label) in enumerate(zip(xs, labels, strict=True)):
        if i % every == 0:
            x_parts.append(element("text", {"class": "x-label", "x": x,
                                            "y": bottom + 20.0 + font,
                                            "text-anchor": "middle", "font-size": font,
                                            "fill": SECONDARY}, text(label)))
    return [element("g", {"class": "y-axis", "aria-hidden": "true"}, *y_parts),
            element("g", {"class": "x-axis", "aria-hidden": "true"}, *x_parts)]


def _gap(x: float, y: float, tooltip: str) -> str:
    return titled("rect", {"class": "hidden-month", "x": x - 3.5, "y": y - 3.5, "width": 7.0,
                           "height": 7.0, "fill": WHITE, "stroke": SECONDARY,
                           "stroke-width": 1.0, "stroke-dasharray": "2 1.5"}, tooltip)


def _gap_tooltip(label: str, reason: str | None) -> str:
    return f"{label}: hidden, {reason}" if reason else f"{label}: no ratings"


def _legend(entries: Sequence[tuple[str, str]], top: float, width: int) -> tuple[str, float]:
    """Legend rows of (symbol markup drawn at 0,0, words); returns markup and height."""
    font = font_size(width)
    row = line_height(font) + 4
    left = float(MARGIN_LEFT) if width >= WIDE else 8.0
    parts: list[str] = []
    x, y = left, top + row / 2
    for symbol, words in entries:
        needed = 22 + text_width(words, font) + 14
        if x + needed > width - MARGIN_RIGHT and x > left:
            x, y = left, y + row
        parts.append(element("g", {"transform": f"translate({format_number(x + 8)} "
                                                f"{format_number(y)})"}, symbol))
        label, used = legend_label(words, x + 22, y, width, font)
        parts.append(label)
        if used > 1:  # wrapped: the next item starts on a row of its own
            x, y = float(width), y + (used - 1) * line_height(font)
        x += needed
    return element("g", {"class": "legend"}, *parts), y + row / 2 - top


@dataclass(frozen=True, slots=True)
class _BarLayout:
    """Where a distribution chart's bars go, and the words and hatch of their segments."""

    top: float
    bottom: float
    bar_width: float
    hatch_id: str
    rating_names: Sequence[str]
    font: int


def _check_distribution(counts: Sequence[Sequence[int] | None],
                        rating_names: Sequence[str]) -> None:
    if len(rating_names) != len(RATING_FILLS):
        raise ValueError(f"rating_names must have {len(RATING_FILLS)} entries")
    for i, month in enumerate(counts):
        if month is not None and (len(month) != len(RATING_FILLS) or min(month) < 0):
            raise ValueError(f"counts[{i}] must be four counts of at least 0")


def _low_hatch_defs(hatch_id: str) -> str:
    """The white hatch laid over the low ratings, so they read as low without colour."""
    return element(
        "defs", None,
        element("pattern", {"id": hatch_id, "width": 6.0, "height": 6.0,
                            "patternUnits": "userSpaceOnUse", "patternTransform": "rotate(45)"},
                element("line", {"x1": 0.0, "y1": 0.0, "x2": 0.0, "y2": 6.0, "stroke": WHITE,
                                 "stroke-width": 1.5})),
    )


def _segment(label: str, x: float, rating: int, count: int, total: int, level: float,
             layout: _BarLayout) -> list[str]:
    """One rating's part of a bar from `level` up: its box, hatch if low, and number if room."""
    share = 100.0 * count / total
    y_top = _y(level + share, layout.top, layout.bottom, 0.0, 100.0)
    y_bottom = _y(level, layout.top, layout.bottom, 0.0, 100.0)
    box = {"x": x - layout.bar_width / 2, "y": y_top, "width": layout.bar_width,
           "height": y_bottom - y_top}
    tooltip = (f"{label}: {rating + 1} {layout.rating_names[rating]}, {count} of {total} "
               f"({format_number(share, 1)}%)")
    parts = [titled("rect", {"class": f"segment segment--{rating + 1}", **box,
                             "fill": RATING_FILLS[rating]}, tooltip)]
    if rating in _HATCHED:
        parts.append(element("rect", {"class": "segment-hatch", **box,
                                      "fill": f"url(#{layout.hatch_id})",
                                      "aria-hidden": "true"}))
    # The rating's number only where it fits inside its part of the bar.
    if y_bottom - y_top >= layout.font + 3 and layout.bar_width >= layout.font:
        parts.append(element(
            "text", {"class": "segment-label", "x": x,
                     "y": (y_top + y_bottom) / 2 + layout.font / 3,
                     "text-anchor": "middle", "font-size": layout.font,
                     "font-weight": "bold", "fill": readable_on(RATING_FILLS[rating]),
                     "aria-hidden": "true"}, text(str(rating + 1))))
    return parts


def _stacked_bar(label: str, x: float, month: Sequence[int], layout: _BarLayout) -> str:
    """A month's ratings stacked from 1 at the bottom to 4 at the top, as shares of 100%."""
    total = sum(month)
    level = 0.0
    segments: list[str] = []
    for rating, count in enumerate(month):
        if count == 0:
            continue
        segments += _segment(label, x, rating, count, total, level, layout)
        level += 100.0 * count / total
    return element("g", {"class": "bar"}, *segments)


def _stacked_bars(labels: Sequence[str], xs: Sequence[float],
                  counts: Sequence[Sequence[int] | None], reasons: Sequence[str | None],
                  layout: _BarLayout) -> str:
    """A bar per month, or a gap marker under the axis for a hidden or empty month."""
    bars: list[str] = []
    for label, x, month, reason in zip(labels, xs, counts, reasons, strict=True):
        if month is None or sum(month) == 0:
            bars.append(_gap(x, layout.bottom + 12, _gap_tooltip(label, reason if month is None
                                                                 else None)))
            continue
        bars.append(_stacked_bar(label, x, month, layout))
    return element("g", {"class": "bars"}, *bars)


def _rating_swatch(rating: int, hatch_id: str) -> str:
    swatch = element("rect", {"x": -7.0, "y": -7.0, "width": 14.0, "height": 14.0,
                              "fill": RATING_FILLS[rating], "stroke": TEXT,
                              "stroke-width": 0.5})
    if rating in _HATCHED:
        swatch += element("rect", {"x": -7.0, "y": -7.0, "width": 14.0, "height": 14.0,
                                   "fill": f"url(#{hatch_id})"})
    return swatch


def _distribution_legend_entries(counts: Sequence[Sequence[int] | None],
                                 layout: _BarLayout) -> list[tuple[str, str]]:
    """A swatch per rating (the low ones marked hatched), then the gap marker if any."""
    entries = []
    for rating, name in enumerate(layout.rating_names):
        suffix = " (low, hatched)" if rating in _HATCHED else ""
        entries.append((_rating_swatch(rating, layout.hatch_id), f"{rating + 1} {name}{suffix}"))
    if any(m is None or sum(m) == 0 for m in counts):
        entries.append((_gap(0.0, 0.0, "hidden or empty month"),
                        "Hidden or no ratings (see the table)"))
    return entries


def distribution_svg(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    counts: Sequence[Sequence[int] | None],
    rating_names: Sequence[str],
    hidden_reasons: Sequence[str | None] | None = None,
    width: int = WIDE,
    height: int = 260,
    chart_id: str | None = None,
    y_label: str = "Share of the month's ratings (%)",
    x_label: str = "Month",
) -> str:
    """One 100% stacked bar per month of the counts of ratings 1-4.

    `counts` holds, per label, the four counts (ratings 1 to 4) or None when
    the month is hidden (its reason in `hidden_reasons`); a month of zeros has
    no ratings. `rating_names` are the four answers' words, for the legend.
    The axes carry `y_label` and `x_label`; text is sized for `width`.

    Raises
    ------
    ValueError
        If the lengths of `labels`, `counts` and `hidden_reasons` differ, a
        month does not have four non-negative counts, `rating_names` does not
        have four entries, or `width` / `height` are too small.
    """
    check_size(width, height)
    _check_labels(labels, len(counts), "counts")
    reasons = _reasons(hidden_reasons, len(labels))
    _check_distribution(counts, rating_names)
    chart_id = chart_id or make_id("dist", title, description, labels, counts)
    xs = x_positions(len(labels), width)
    slot = (width - MARGIN_LEFT - MARGIN_RIGHT) / len(labels)
    frame = time_layout(width, height, y_label, events=False)
    layout = _BarLayout(top=frame.top, bottom=frame.bottom,
                        bar_width=max(min(slot * 0.7, 36.0), 2.0), hatch_id=f"{chart_id}-low",
                        rating_names=rating_names, font=frame.font)
    axes = _axes(labels, xs, frame, [0.0, 25.0, 50.0, 75.0, 100.0], 0.0, 100.0, "%")
    bars = _stacked_bars(labels, xs, counts, reasons, layout)
    legend, legend_height = _legend(_distribution_legend_entries(counts, layout),
                                    frame.height, width)
    body = [_low_hatch_defs(layout.hatch_id), axis_titles(frame, x_label), *axes, bars, legend]
    return svg_root(chart_id=chart_id, title=title, description=description, width=width,
                    height=frame.height + legend_height, css_class="chart chart--distribution",
                    body=body)


def interval_svg(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[Interval | None],
    value_name: str,
    interval_name: str = "95% interval",
    hidden_reasons: Sequence[str | None] | None = None,
    unit: str = "%",
    width: int = WIDE,
    height: int = 240,
    chart_id: str | None = None,
    y_label: str | None = None,
    x_label: str = "Month",
) -> str:
    """A point per month with its interval as a whisker, on a 0-100 scale for ``%``.

    The y axis is titled `y_label` (default: `value_name` and the unit, e.g.
    "Share rated low (%)"), the x axis `x_label`; text is sized for `width`.

    `values` holds an :class:`Interval` per label, or None for a hidden or empty
    month (its reason in `hidden_reasons`, or none for "no ratings").
    `value_name` names the estimate in tooltips and the legend, `interval_name`
    the whisker in the legend.

    Raises
    ------
    ValueError
        If the lengths of `labels`, `values` and `hidden_reasons` differ, an
        interval is not finite or does not contain its estimate, or `width` /
        `height` are too small.
    """
    check_size(width, height)
    _check_labels(labels, len(values), "values")
    reasons = _reasons(hidden_reasons, len(labels))
    shown = [v for v in values if v is not None]
    for i, value in enumerate(values):
        if value is None:
            continue
        numbers = (value.lower, value.estimate, value.upper)
        if not all(math.isfinite(n) for n in numbers) or not (
                value.lower <= value.estimate <= value.upper):
            raise ValueError(f"values[{i}] must be finite with lower <= estimate <= upper")
    if shown:
        lo = min(v.lower for v in shown)
        hi = max(v.upper for v in shown)
        pad = (hi - lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    else:
        lo, hi = 0.0, 100.0
    if unit == "%":
        lo, hi = max(lo, 0.0), min(hi, 100.0)
    ticks = nice_ticks(lo, hi)
    if unit == "%":
        ticks = [t for t in ticks if 0.0 <= t <= 100.0]
    lo, hi = min(ticks[0], lo), max(ticks[-1], hi)
    named = value_name[:1].upper() + value_name[1:]
    frame = time_layout(width, height, y_label or (f"{named} ({unit})" if unit else named),
                        events=False)
    top, bottom = frame.top, frame.bottom
    xs = x_positions(len(labels), width)
    body = [axis_titles(frame, x_label), *_axes(labels, xs, frame, ticks, lo, hi, unit)]

    marks: list[str] = []
    for label, x, value, reason in zip(labels, xs, values, reasons, strict=True):
        if value is None:
            marks.append(_gap(x, bottom + 12, _gap_tooltip(label, reason)))
            continue
        y_low, y_mid, y_high = (_y(v, top, bottom, lo, hi)
                                for v in (value.lower, value.estimate, value.upper))
        tooltip = (f"{label}: {value_name} {format_number(value.estimate)}{unit}, interval "
                   f"{format_number(value.lower)}{unit} to {format_number(value.upper)}{unit}")
        marks.append(element(
            "g", {"class": "estimate"},
            element("title", None, text(tooltip)),
            element("line", {"class": "whisker", "x1": x, "x2": x, "y1": y_low, "y2": y_high,
                             "stroke": TEXT, "stroke-width": 1.5}),
            element("line", {"class": "whisker-cap", "x1": x - 4, "x2": x + 4, "y1": y_low,
                             "y2": y_low, "stroke": TEXT, "stroke-width": 1.5}),
            element("line", {"class": "whisker-cap", "x1": x - 4, "x2": x + 4, "y1": y_high,
                             "y2": y_high, "stroke": TEXT, "stroke-width": 1.5}),
            element("circle", {"class": "point", "cx": x, "cy": y_mid, "r": 4.0,
                               "fill": "#005eb8", "stroke": TEXT, "stroke-width": 1.0}),
        ))
    body.append(element("g", {"class": "estimates"}, *marks))

    entries = [
        (element("circle", {"cx": 0.0, "cy": 0.0, "r": 4.0, "fill": "#005eb8", "stroke": TEXT,
                            "stroke-width": 1.0}), named),
        (element("line", {"x1": 0.0, "x2": 0.0, "y1": -8.0, "y2": 8.0, "stroke": TEXT,
                          "stroke-width": 1.5}), interval_name),
    ]
    if any(v is None for v in values):
        entries.append((_gap(0.0, 0.0, "hidden or empty month"),
                        "Hidden or no ratings (see the table)"))
    legend, legend_height = _legend(entries, frame.height, width)
    body.append(legend)
    return svg_root(
        chart_id=chart_id or make_id("interval", title, description, labels, values),
        title=title, description=description, width=width,
        height=frame.height + legend_height,
        css_class="chart chart--interval", body=body,
    )
