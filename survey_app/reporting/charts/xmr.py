"""XmR ("plot the dots") charts and the response-rate strip drawn under them.

:func:`xmr_chart_svg` draws an :class:`analysis.spc.XmRChart` as Making Data Count
does: the data line, the mean, the process limits dashed and the near limits
faint, each point marked by its variation (colour *and* shape), rebased segments
drawn apart, hidden waves as gaps, and the action log as vertical markers.
:func:`response_rate_svg` uses the same x positions (:func:`x_positions`) so it
lines up under the chart; :func:`xmr_table_rows` gives the data-table alternative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from analysis.spc import (
    COMMON_CAUSE,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
    XmRChart,
)
from survey_app.reporting.charts._svg import (
    COMMON_GREY,
    CONCERN_ORANGE,
    FAINT,
    GRID,
    IMPROVEMENT_BLUE,
    NEUTRAL_PURPLE,
    SECONDARY,
    TEXT,
    WHITE,
    WIDE,
    check_improvement,
    check_size,
    element,
    font_size,
    format_number,
    make_id,
    nice_ticks,
    num,
    svg_root,
    text,
    text_width,
    titled,
    wrap,
)
from survey_app.reporting.charts.icons import variation_words
from survey_app.reporting.vocabulary import TOO_FEW_ANSWERS

__all__ = [
    "HIDDEN_TOO_FEW",
    "MARGIN_LEFT",
    "MARGIN_RIGHT",
    "PROVISIONAL_LIMITS",
    "TimeLayout",
    "ChartEvent",
    "XmRTableRow",
    "axis_titles",
    "characters_in",
    "legend_label",
    "line_height",
    "response_rate_svg",
    "time_layout",
    "x_positions",
    "xmr_chart_svg",
    "xmr_table_rows",
]

#: Left and right margins shared by every chart on a time axis, so they align.
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
HIDDEN_TOO_FEW = TOO_FEW_ANSWERS  # the words, from the one vocabulary

#: What trial limits are called on the charts (issue 13's agreed words).
PROVISIONAL_LIMITS = ("Provisional limits: fewer than 13 pulses since the chart "
                      "started afresh")
_VARIATION_ORDER = (COMMON_CAUSE, SPECIAL_CAUSE_IMPROVEMENT, SPECIAL_CAUSE_CONCERN,
                    SPECIAL_CAUSE_NEUTRAL_HIGH, SPECIAL_CAUSE_NEUTRAL_LOW)
_DIRECTION_WORDS = {
    "increase": "higher is better",
    "decrease": "lower is better",
    "neutral": "neither direction is better",
}
_MIN_PLOT = 100.0  # the fewest units of height the plot itself gets, however much text


def _plain(variation: str, improvement: str) -> str:
    """The agreed plain words for a point's variation, e.g. "Unusual rise, better"."""
    return variation_words(variation, improvement)[0]


@dataclass(frozen=True, slots=True)
class ChartEvent:
    """An action from the action log ("you said, we did") drawn on a chart.

    Attributes
    ----------
    label : str
        A short marker label drawn on the chart (e.g. ``"A1"``).
    at_index : int
        Position of the wave the action belongs to (0-based, as in `labels`).
    text : str
        What was done, in words (shown in the legend and the marker's tooltip).
    """

    label: str
    at_index: int
    text: str


class XmRTableRow(TypedDict):
    """One wave of the data-table alternative to an XmR chart."""

    label: str
    value: float | None
    mean: float | None
    lower: float | None
    upper: float | None
    variation: str


def x_positions(count: int, width: int) -> tuple[float, ...]:
    """Centre x of each of `count` waves on a chart `width` wide.

    Every chart on a time axis uses this, so a response-rate strip drawn with the
    same `width` and number of waves lines up exactly under its XmR chart.

    Raises
    ------
    ValueError
        If `count` is below 1.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    step = (width - MARGIN_LEFT - MARGIN_RIGHT) / count
    return tuple(MARGIN_LEFT + step * (i + 0.5) for i in range(count))


def _present(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _check_series(labels: Sequence[str], values: Sequence[float | None], chart: XmRChart) -> None:
    if not labels:
        raise ValueError("labels must not be empty")
    if len(values) != len(labels):
        raise ValueError(f"values has {len(values)} entries for {len(labels)} labels")
    if len(chart.values) != len(labels):
        raise ValueError(f"chart has {len(chart.values)} points for {len(labels)} labels")
    for i, (value, variation) in enumerate(zip(values, chart.variation, strict=True)):
        if _present(value) != (variation is not None):
            raise ValueError(f"values[{i}] and the chart disagree on whether wave {i} is hidden")


def _check_reasons(reasons: Sequence[str | None] | None, count: int) -> list[str]:
    if reasons is None:
        return [HIDDEN_TOO_FEW] * count
    if len(reasons) != count:
        raise ValueError(f"hidden_reasons has {len(reasons)} entries for {count} labels")
    return [reason or HIDDEN_TOO_FEW for reason in reasons]


def xmr_table_rows(
    labels: Sequence[str],
    values: Sequence[float | None],
    chart: XmRChart,
    hidden_reasons: Sequence[str | None] | None = None,
) -> list[XmRTableRow]:
    """The chart as table rows, one per wave, for the data-table alternative.

    A hidden wave has ``value`` None and ``variation`` ``"Hidden: <reason>"``
    (by default "too few answers"); limits that cannot be computed are None.

    Raises
    ------
    ValueError
        If `labels`, `values`, `hidden_reasons` and `chart` differ in length, or
        `values` and `chart` disagree on which waves are hidden.
    """
    _check_series(labels, values, chart)
    reasons = _check_reasons(hidden_reasons, len(labels))
    rows: list[XmRTableRow] = []
    for i, label in enumerate(labels):
        variation = chart.variation[i]
        value = values[i]
        rows.append(
            XmRTableRow(
                label=label,
                value=value if _present(value) else None,
                mean=_finite_or_none(chart.mean[i]),
                lower=_finite_or_none(chart.lower[i]),
                upper=_finite_or_none(chart.upper[i]),
                variation=(
                    f"Hidden: {reasons[i]}" if variation is None
                    else _plain(variation, chart.improvement)
                ),
            )
        )
    return rows


def _format_value(value: float, unit: str) -> str:
    return f"{format_number(value)}{unit}"


# --------------------------------------------------------------------------- shapes

_POINT_STYLE: dict[str, tuple[str, str]] = {  # variation -> (shape, colour)
    COMMON_CAUSE: ("small-circle", COMMON_GREY),
    SPECIAL_CAUSE_IMPROVEMENT: ("square", IMPROVEMENT_BLUE),
    SPECIAL_CAUSE_CONCERN: ("diamond", CONCERN_ORANGE),
    SPECIAL_CAUSE_NEUTRAL_HIGH: ("triangle-up", NEUTRAL_PURPLE),
    SPECIAL_CAUSE_NEUTRAL_LOW: ("triangle-down", NEUTRAL_PURPLE),
}


_CORNERS: dict[str, tuple[tuple[float, float], ...]] = {  # polygon corners from the centre
    "diamond": ((0.0, -6.5), (6.5, 0.0), (0.0, 6.5), (-6.5, 0.0)),
    "triangle-up": ((0.0, -6.5), (6.0, 4.5), (-6.0, 4.5)),
    "triangle-down": ((0.0, 6.5), (6.0, -4.5), (-6.0, -4.5)),
    "hidden": ((-3.5, -3.5), (3.5, -3.5), (3.5, 3.5), (-3.5, 3.5)),
}


def _shape(kind: str, x: float, y: float, attrs: dict[str, object], tooltip: str | None) -> str:
    """A marker centred on (x, y); special causes get a dark outline (3:1 on white)."""
    geometry: dict[str, object]
    if kind == "small-circle":
        tag, geometry = "circle", {"cx": x, "cy": y, "r": 3.5}
    elif kind == "square":
        tag, geometry = "rect", {"x": x - 5, "y": y - 5, "width": 10.0, "height": 10.0}
    else:
        tag = "polygon"
        geometry = {
            "points": " ".join(f"{num(x + dx)},{num(y + dy)}" for dx, dy in _CORNERS[kind])
        }
    merged = {**geometry, **attrs}
    return titled(tag, merged, tooltip) if tooltip else element(tag, merged)


def _point(
    variation: str, x: float, y: float, tooltip: str | None, role: str = "point"
) -> str:
    kind, colour = _POINT_STYLE[variation]
    outline = SECONDARY if variation == COMMON_CAUSE else TEXT
    attrs: dict[str, object] = {
        "class": f"{role} {role}--{variation}",
        "fill": colour,
        "stroke": outline,
        "stroke-width": 1.0,
    }
    return _shape(kind, x, y, attrs, tooltip)


def _hidden_marker(x: float, y: float, tooltip: str | None, role: str = "hidden-wave") -> str:
    attrs: dict[str, object] = {
        "class": role,
        "fill": WHITE,
        "stroke": SECONDARY,
        "stroke-width": 1.0,
        "stroke-dasharray": "2 1.5",
    }
    return _shape("hidden", x, y, attrs, tooltip)


def _hline(cls: str, x0: float, x1: float, y: float, **attrs: object) -> str:
    return element("line", {"class": cls, "x1": x0, "x2": x1, "y1": y, "y2": y, **attrs})


def _vline(cls: str, x: float, y0: float, y1: float, **attrs: object) -> str:
    return element("line", {"class": cls, "x1": x, "x2": x, "y1": y0, "y2": y1, **attrs})


_LINE_ATTRS: dict[str, dict[str, object]] = {
    "mean": {"stroke": TEXT, "stroke-width": 1.5},
    "limit": {"stroke": SECONDARY, "stroke-width": 1.2, "stroke-dasharray": "6 4"},
    "near-limit": {"stroke": FAINT, "stroke-width": 1.0, "stroke-dasharray": "1.5 3"},
    "rebase": {"stroke": TEXT, "stroke-width": 1.5},
    "event": {"stroke": TEXT, "stroke-width": 1.0, "stroke-dasharray": "3 2"},
}


# --------------------------------------------------------------------------- axes


@dataclass(frozen=True, slots=True)
class _Frame:
    """The plot area of a time chart, its scales, and the size of its text."""

    width: int
    top: float
    bottom: float
    lo: float
    hi: float
    xs: tuple[float, ...]
    font: int

    @property
    def step(self) -> float:
        return (self.width - MARGIN_LEFT - MARGIN_RIGHT) / len(self.xs)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)

    def inside(self, value: float) -> bool:
        return math.isfinite(value) and self.lo - 1e-9 <= value <= self.hi + 1e-9


@dataclass(frozen=True, slots=True)
class TimeLayout:
    """Where a time chart's parts go: the y-axis title, the plot, the x axis and its title."""

    width: int
    font: int
    y_title: tuple[str, ...]
    top: float
    bottom: float
    height: float

    def frame(self, lo: float, hi: float, count: int) -> _Frame:
        return _Frame(self.width, self.top, self.bottom, lo, hi,
                      x_positions(count, self.width), self.font)


def line_height(font: int) -> float:
    return font + 6.0


def characters_in(width: float, font: int) -> int:
    """How many characters of `font` fit in `width` (the estimate of text_width)."""
    return max(int(width / (font * 0.6)), 8)


def time_layout(width: int, height: int, y_label: str, *, events: bool) -> TimeLayout:
    """The y-axis title wrapped over the top, room for event labels, the plot, the x axis.

    The plot gets what `height` leaves, but never less than _MIN_PLOT: on a narrow
    chart the titles take more rows and the chart grows instead of the plot shrinking.
    """
    font = font_size(width)
    lines = tuple(wrap(y_label, characters_in(width - 8, font)))
    top = 4 + len(lines) * line_height(font) + (font + 14.0 if events else 10.0)
    below = 26.0 + 2 * font + 10.0  # hidden-wave markers, x labels, the x-axis title
    plot = max(height - top - below, _MIN_PLOT)
    return TimeLayout(width, font, lines, top, top + plot, top + plot + below)


def axis_titles(layout: TimeLayout, x_label: str) -> str:
    """What the y axis measures (over the plot, left) and what the x axis is (under it)."""
    font = layout.font
    y_title = element(
        "text",
        {"class": "axis-title y-axis-title", "x": 4.0, "y": 4.0 + font, "font-size": font,
         "font-weight": "bold"},
        *(element("tspan", {"x": 4.0, "dy": 0.0 if i == 0 else line_height(font)}, text(line))
          for i, line in enumerate(layout.y_title)),
    )
    centre = (MARGIN_LEFT + layout.width - MARGIN_RIGHT) / 2
    x_title = element(
        "text",
        {"class": "axis-title x-axis-title", "x": centre, "y": layout.height - 8.0,
         "text-anchor": "middle", "font-size": font, "font-weight": "bold"},
        text(x_label),
    )
    return element("g", {"class": "axis-titles", "aria-hidden": "true"}, y_title, x_title)


def _y_axis(frame: _Frame, ticks: Sequence[float], unit: str) -> list[str]:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else None
    out = []
    for tick in ticks:
        y = frame.y(tick)
        out.append(
            _hline("gridline", MARGIN_LEFT, frame.width - MARGIN_RIGHT, y,
                   stroke=GRID, **{"stroke-width": 1.0})
        )
        out.append(
            element(
                "text",
                {"class": "tick-label", "x": MARGIN_LEFT - 6.0, "y": y + frame.font / 3,
                 "text-anchor": "end", "font-size": frame.font, "fill": SECONDARY},
                text(f"{format_number(tick, step)}{unit}"),
            )
        )
    return [element("g", {"class": "y-axis", "aria-hidden": "true"}, *out)]


def _x_axis(frame: _Frame, labels: Sequence[str]) -> list[str]:
    widest = max(text_width(label, frame.font) for label in labels) + 8
    every = max(1, math.ceil(widest / frame.step))
    out = [_hline("axis", MARGIN_LEFT, frame.width - MARGIN_RIGHT, frame.bottom,
                  stroke=SECONDARY, **{"stroke-width": 1.0})]
    for i, (x, label) in enumerate(zip(frame.xs, labels, strict=True)):
        out.append(_vline("tick", x, frame.bottom, frame.bottom + 4, stroke=SECONDARY))
        if i % every == 0:
            out.append(
                element(
                    "text",
                    {"class": "x-label", "x": x, "y": frame.bottom + 20.0 + frame.font,
                     "text-anchor": "middle", "font-size": frame.font, "fill": SECONDARY},
                    text(label),
                )
            )
    return [element("g", {"class": "x-axis", "aria-hidden": "true"}, *out)]


def _domain(numbers: Sequence[float], unit: str) -> tuple[list[float], float, float]:
    finite = [v for v in numbers if math.isfinite(v)]
    if not finite:
        lo, hi = (0.0, 100.0) if unit == "%" else (0.0, 10.0)
    else:
        lo, hi = min(finite), max(finite)
        pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 1.0)
        lo, hi = lo - pad, hi + pad
    if unit == "%":  # a percentage cannot leave 0..100: limits beyond it are not drawn
        lo, hi = max(lo, 0.0), min(hi, 100.0)
        if hi - lo < 1.0:
            lo, hi = max(min(lo, hi - 1.0), 0.0), min(max(hi, lo + 1.0), 100.0)
    ticks = nice_ticks(lo, hi)
    if unit == "%":
        ticks = [t for t in ticks if 0.0 <= t <= 100.0]
    return ticks, min(ticks[0], lo), max(ticks[-1], hi)


# --------------------------------------------------------------------------- legend


def _legend(
    items: Sequence[tuple[Callable[[float, float], str], str]],
    lines: Sequence[str],
    top: float,
    width: int,
) -> tuple[str, float]:
    """Legend items flowed into rows, then each line of text wrapped; returns its height.

    Lines wrap rather than being cut, so no note is ever left mid-phrase.
    """
    font = font_size(width)
    row = line_height(font) + 4
    left = float(MARGIN_LEFT) if width >= WIDE else 8.0
    out: list[str] = []
    x, y = left, top + row / 2
    for symbol, words in items:
        needed = 22 + text_width(words, font) + 14
        if x + needed > width - MARGIN_RIGHT and x > left:
            x, y = left, y + row
        out.append(symbol(x + 8, y))
        label, used = legend_label(words, x + 22, y, width, font)
        out.append(label)
        if used > 1:  # wrapped: the next item starts on a row of its own
            x, y = float(width), y + (used - 1) * line_height(font)
        x += needed
    characters = characters_in(width - left - MARGIN_RIGHT, font)
    for line in lines:
        for part in wrap(line, characters):
            y += line_height(font)
            out.append(
                element("text", {"x": left, "y": y + font / 3, "font-size": font}, text(part))
            )
    height = y + row / 2 - top
    return element("g", {"class": "legend"}, *out), height


def legend_label(words: str, x: float, y: float, width: int, font: int) -> tuple[str, int]:
    """A legend item's words beside its symbol at (x, y), wrapped if they would pass the
    chart's right edge; returns the text and its number of lines."""
    lines = wrap(words, characters_in(width - MARGIN_RIGHT - x, font))
    if len(lines) == 1:
        return element("text", {"x": x, "y": y + font / 3, "font-size": font}, text(words)), 1
    return element(
        "text", {"x": x, "y": y + font / 3, "font-size": font},
        *(element("tspan", {"x": x, "dy": 0.0 if i == 0 else line_height(font)}, text(line))
          for i, line in enumerate(lines)),
    ), len(lines)


def _line_symbol(kind: str) -> Callable[[float, float], str]:
    return lambda x, y: _hline(f"legend-{kind}", x - 8, x + 8, y, **_LINE_ATTRS[kind])


def _point_symbol(variation: str) -> Callable[[float, float], str]:
    return lambda x, y: _point(variation, x, y, None, "legend-point")


def _hidden_symbol(x: float, y: float) -> str:
    return _hidden_marker(x, y, None, "legend-hidden-wave")


# --------------------------------------------------------------------------- charts


def _check_events(events: Sequence[ChartEvent], count: int) -> None:
    for event in events:
        if not 0 <= event.at_index < count:
            raise ValueError(
                f"event {event.label!r} at_index must be between 0 and {count - 1}, "
                f"got {event.at_index}"
            )


def _check_chart_inputs(
    labels: Sequence[str],
    values: Sequence[float | None],
    chart: XmRChart,
    improvement: str,
    events: Sequence[ChartEvent],
) -> None:
    _check_series(labels, values, chart)
    if check_improvement(improvement) != chart.improvement:
        raise ValueError(
            f"improvement is {improvement!r} but the chart was computed for "
            f"{chart.improvement!r}"
        )
    _check_events(events, len(labels))


def _xmr_frame(
    values: Sequence[float | None], chart: XmRChart, unit: str, layout: TimeLayout
) -> tuple[_Frame, list[float]]:
    """The plot area scaled to hold every value and limit, and its y-axis ticks."""
    numbers = [v for v in values if v is not None and _present(v)]
    for series in (chart.mean, chart.lower, chart.upper):
        numbers.extend(series)
    ticks, lo, hi = _domain(numbers, unit)
    return layout.frame(lo, hi, len(values)), ticks


def _segments(chart: XmRChart, count: int) -> list[tuple[int, int]]:
    """(first, stop) of each run of waves that share limits, split where the chart rebased."""
    starts = [i for i in range(count) if i == 0 or chart.segment[i] != chart.segment[i - 1]]
    return list(zip(starts, [*starts[1:], count], strict=True))


def _rebase_marker(frame: _Frame, x: float) -> list[str]:
    # Labelled on whichever side has room, so the words are never cut by the edge.
    words = "Starts afresh"
    room = frame.width - MARGIN_RIGHT - x >= text_width(words, frame.font) + 4
    return [
        _vline("rebase", x, frame.top, frame.bottom, **_LINE_ATTRS["rebase"]),
        element(
            "text",
            {"class": "rebase-label", "x": x + 3 if room else x - 3,
             "y": frame.top + frame.font, "text-anchor": "start" if room else "end",
             "font-size": frame.font},
            text(words),
        ),
    ]


def _limit_lines(frame: _Frame, chart: XmRChart, segments: Sequence[tuple[int, int]]) -> str:
    """The mean and limits, one run per segment; a rebase line where a new segment starts."""
    lines: list[str] = []
    for first, stop in segments:
        x0 = frame.xs[first] - frame.step / 2
        x1 = frame.xs[stop - 1] + frame.step / 2
        if first > 0:
            lines += _rebase_marker(frame, x0)
        for kind, series in (
            ("mean", chart.mean),
            ("limit", chart.lower),
            ("limit", chart.upper),
            ("near-limit", chart.lower_near),
            ("near-limit", chart.upper_near),
        ):
            level = series[first]
            # Limits are constant within a segment; one not computed, or off the scale (a
            # percentage limit beyond 0..100), is left out.
            if frame.inside(level):
                lines.append(_hline(kind, x0, x1, frame.y(level), **_LINE_ATTRS[kind]))
    return element("g", {"class": "limits", "aria-hidden": "true"}, *lines)


def _data_lines(frame: _Frame, values: Sequence[float | None]) -> str:
    """The data line, broken at every hidden wave (a lone shown wave gets only its point)."""
    runs: list[list[int]] = [[]]
    for i, value in enumerate(values):
        if _present(value):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    data_lines = [
        element(
            "polyline",
            {
                "class": "data-line",
                "points": " ".join(
                    f"{num(frame.xs[i])},{num(frame.y(float(values[i] or 0.0)))}" for i in run
                ),
                "fill": "none",
                "stroke": SECONDARY,
                "stroke-width": 1.5,
            },
        )
        for run in runs
        if len(run) > 1
    ]
    return element("g", {"class": "data", "aria-hidden": "true"}, *data_lines)


def _event_markers(frame: _Frame, events: Sequence[ChartEvent]) -> str:
    """A vertical line per event, labelled above the plot; drawn before the points, so behind."""
    markers = []
    for event in events:
        x = frame.xs[event.at_index]
        markers.append(
            element(
                "g",
                {"class": "event"},
                element("title", None, text(f"{event.label}: {event.text}")),
                _vline("event-line", x, frame.top - 4, frame.bottom, **_LINE_ATTRS["event"]),
                element(
                    "text",
                    {"class": "event-label", "x": x, "y": frame.top - 8,
                     "text-anchor": "middle", "font-size": frame.font, "font-weight": "bold"},
                    text(event.label),
                ),
            )
        )
    return element("g", {"class": "events"}, *markers)


def _xmr_points(
    frame: _Frame,
    labels: Sequence[str],
    values: Sequence[float | None],
    chart: XmRChart,
    reasons: Sequence[str],
    unit: str,
) -> str:
    """A marker per wave in its variation's shape, or a hidden-wave marker under the axis."""
    points = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        variation = chart.variation[i]
        if value is None or variation is None:
            points.append(
                _hidden_marker(frame.xs[i], frame.bottom + 12, f"{label}: hidden, {reasons[i]}")
            )
            continue
        tooltip = (f"{label}: {_format_value(value, unit)}, "
                   f"{_plain(variation, chart.improvement)}")
        points.append(_point(variation, frame.xs[i], frame.y(value), tooltip))
    return element("g", {"class": "points"}, *points)


def _rebase_symbol(x: float, y: float) -> str:
    return _vline("legend-rebase", x, y - 8, y + 8, **_LINE_ATTRS["rebase"])


def _xmr_legend_items(
    chart: XmRChart, *, rebased: bool
) -> list[tuple[Callable[[float, float], str], str]]:
    """The variations that occur, the lines, then hidden waves and fresh starts if any."""
    present = {v for v in chart.variation if v is not None}
    items: list[tuple[Callable[[float, float], str], str]] = [
        (_point_symbol(v), _plain(v, chart.improvement))
        for v in _VARIATION_ORDER if v in present
    ]
    items += [
        (_line_symbol("mean"), "Mean"),
        (_line_symbol("limit"), "Process limits"),
        (_line_symbol("near-limit"), "Near limits"),
    ]
    if any(v is None for v in chart.variation):
        items.append((_hidden_symbol, "Hidden pulse (see the table)"))
    if rebased:
        items.append((_rebase_symbol, "Chart starts afresh: new limits"))
    return items


def _xmr_notes(chart: XmRChart, improvement: str, events: Sequence[ChartEvent]) -> list[str]:
    """The legend's lines of text: which direction is better, provisional limits, events."""
    notes = [f"{_DIRECTION_WORDS[improvement].capitalize()}."]
    if chart.trial_limits:
        notes.append(f"{PROVISIONAL_LIMITS}.")
    notes += [f"{event.label}: {event.text}" for event in events]
    return notes


def xmr_chart_svg(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    chart: XmRChart,
    improvement: str,
    unit: str = "%",
    events: Sequence[ChartEvent] = (),
    width: int = WIDE,
    height: int = 240,
    hidden_reasons: Sequence[str | None] | None = None,
    chart_id: str | None = None,
    y_label: str | None = None,
    x_label: str = "Pulse",
) -> str:
    """An accessible SVG XmR chart of `values` with the limits and labels of `chart`.

    Points are coloured by variation with the Making Data Count colours and also
    differ in shape (common cause: small grey circle; improvement: blue square;
    concern: orange diamond; neutral high/low: purple triangle up/down).  The mean
    is solid, process limits dashed, near limits faint dotted, each segment (each
    fresh start) drawn on its own with a vertical line.  Hidden waves (None or NaN)
    break the line and get a dashed square marker under the axis.  `events` are
    vertical markers labelled above the plot and listed in the legend.

    `y_label` (default: "Value", with the unit) says over the plot what the y axis
    measures; `x_label` says under it what the x axis is.  The legend names every
    marker and line in the agreed plain words.  Text is sized for `width` (see
    :func:`~survey_app.reporting.charts._svg.font_size`).

    `height` is the plot with its axes and titles (the plot never gets less than
    100 units: a narrow chart grows instead); the legend adds rows below it.
    `chart_id` (default: derived from the content) prefixes the ids of the
    ``<title>`` and ``<desc>``; pass distinct ids for identical charts on one page.

    Raises
    ------
    ValueError
        If the lengths of `labels`, `values`, `hidden_reasons` and `chart` differ,
        `values` and `chart` disagree on which waves are hidden, `improvement` is
        unknown or differs from ``chart.improvement``, an event lies outside the
        series, or `width` / `height` are too small.
    """
    check_size(width, height)
    _check_chart_inputs(labels, values, chart, improvement, events)
    reasons = _check_reasons(hidden_reasons, len(labels))
    layout = time_layout(width, height, y_label or _default_y_label(unit), events=bool(events))
    frame, ticks = _xmr_frame(values, chart, unit, layout)
    segments = _segments(chart, len(labels))
    body = [
        axis_titles(layout, x_label),
        *_y_axis(frame, ticks, unit),
        _limit_lines(frame, chart, segments),
        _data_lines(frame, values),
    ]
    if events:
        body.append(_event_markers(frame, events))
    body.append(_xmr_points(frame, labels, values, chart, reasons, unit))
    body.extend(_x_axis(frame, labels))
    items = _xmr_legend_items(chart, rebased=len(segments) > 1)
    notes = _xmr_notes(chart, improvement, events)
    legend, legend_height = _legend(items, notes, layout.height, width)
    body.append(legend)

    return svg_root(
        chart_id=chart_id or make_id("xmr", title, description, labels, values, events),
        title=title,
        description=description,
        width=width,
        height=layout.height + legend_height,
        css_class="chart chart--xmr",
        body=body,
    )


def _default_y_label(unit: str) -> str:
    return f"Value ({unit})" if unit else "Value"


def _bar_symbol(x: float, y: float) -> str:
    return element("rect", {"class": "legend-bar", "x": x - 5, "y": y - 7, "width": 10.0,
                            "height": 14.0, "fill": _BAR_FILL})


_BAR_FILL = "#005eb8"


def response_rate_svg(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    rates: Sequence[float | None],
    width: int = WIDE,
    height: int = 150,
    chart_id: str | None = None,
    y_label: str = "Response rate (%)",
    x_label: str = "Pulse",
    bar_label: str = "Response rate: share of invited staff who answered",
) -> str:
    """A bar per wave of its response rate (0-100 %), on the XmR chart's x positions.

    Drawn with the same `width` and `labels` as the XmR chart above it, each bar is
    centred on that wave's point (:func:`x_positions`).  A None rate draws no bar
    and a dashed square marker under the axis.  The axes carry `y_label` and
    `x_label`, and the legend names the bars (`bar_label`) and any missing rate.

    Raises
    ------
    ValueError
        If `labels` is empty, `rates` differs from it in length, a rate is outside
        0..100 or not finite, or `width` / `height` are too small.
    """
    check_size(width, height)
    if not labels:
        raise ValueError("labels must not be empty")
    if len(rates) != len(labels):
        raise ValueError(f"rates has {len(rates)} entries for {len(labels)} labels")
    for i, rate in enumerate(rates):
        if rate is not None and not 0.0 <= rate <= 100.0:
            raise ValueError(f"rates[{i}] must be between 0 and 100, got {rate!r}")
    layout = time_layout(width, height, y_label, events=False)
    frame = layout.frame(0.0, 100.0, len(labels))
    body = [axis_titles(layout, x_label), *_y_axis(frame, [0.0, 50.0, 100.0], "%")]
    bar_width = max(min(frame.step * 0.6, 24.0), 1.0)
    bars = []
    for label, x, rate in zip(labels, frame.xs, rates, strict=True):
        if rate is None:
            bars.append(_hidden_marker(x, frame.bottom + 12, f"{label}: no response rate"))
            continue
        y = frame.y(rate)
        bars.append(
            titled(
                "rect",
                {"class": "bar", "x": x - bar_width / 2, "y": y, "width": bar_width,
                 "height": frame.bottom - y, "fill": _BAR_FILL},
                f"{label}: response rate {format_number(rate)}%",
            )
        )
    body.append(element("g", {"class": "bars"}, *bars))
    body.extend(_x_axis(frame, labels))
    items: list[tuple[Callable[[float, float], str], str]] = [(_bar_symbol, bar_label)]
    if any(rate is None for rate in rates):
        items.append((_hidden_symbol, "No response rate shown (see the table)"))
    legend, legend_height = _legend(items, (), layout.height, width)
    body.append(legend)
    return svg_root(
        chart_id=chart_id or make_id("rate", title, description, labels, rates),
        title=title,
        description=description,
        width=width,
        height=layout.height + legend_height,
        css_class="chart chart--response-rate",
        body=body,
    )
