"""Every chart carries visible axis titles and a legend, with text big enough to read at
the width it is shown, in the agreed plain words (issue 13, points 8 and 9)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from analysis.spc import xmr
from survey_app.reporting.charts import (
    Cell,
    ChartEvent,
    for_every_width,
    heatmap_svg,
    response_rate_svg,
)
from survey_app.reporting.charts import xmr_chart_svg as xmr_svg
from survey_app.reporting.charts._svg import NARROW, WIDE
from survey_app.reporting.charts.bars import Interval, distribution_svg, interval_svg

SVG = "{http://www.w3.org/2000/svg}"
LABELS = [f"{m} 2025" for m in "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()]
VALUES = [52.0, 55, 50, 58, 54, 57, 66, 70, 72, 69, 74, 76]
LONG_ACTION = ("Moved the morning huddle to 08:45 so that the night staff can join it "
               "before handover, at the request of the team")
# The smallest a chart is shown, over its viewBox width (reports.css): the wide one at
# its full 640 px, the narrow one down to 288 px (a 320 px phone less its margins).
SMALLEST_SCALE = {WIDE: 1.0, NARROW: 288 / 320}


def _xmr(width: int) -> str:
    chart = xmr(VALUES, improvement="increase", rebase_at=[6])
    return xmr_svg(title="Place to work", description="d", labels=LABELS, values=VALUES,
                   chart=chart, improvement="increase", width=width,
                   events=[ChartEvent("A1", 3, LONG_ACTION)],
                   y_label="Would recommend as a place to work (%)", x_label="Pulse")


def _rate(width: int) -> str:
    return response_rate_svg(title="Rate", description="d", labels=LABELS,
                             rates=[60.0, None, *([55.0] * 10)], width=width)


def _distribution(width: int) -> str:
    return distribution_svg(title="Ratings", description="d", labels=LABELS,
                            counts=[(1, 2, 3, 4)] * 12,
                            rating_names=["Not very", "Okay", "Good", "Excellent"], width=width)


def _interval(width: int) -> str:
    return interval_svg(title="Low", description="d", labels=LABELS,
                        values=[Interval(40.0, 30.0, 50.0)] * 12, value_name="share rated low",
                        width=width)


def _heatmap(width: int) -> str:
    columns = [f"{a} 2025 to {b} 2025" for a, b in (("Jan", "Mar"), ("Apr", "Jun"),
                                                    ("Jul", "Sep"), ("Oct", "Dec"))]
    return heatmap_svg(title="Heatmap", description="d",
                       rows=["I am able to make suggestions to improve the work of my team.",
                             "Short"],
                       columns=columns, cells=[[Cell(7.0)] * 4, [Cell(None, "too few answers"),
                                                                 *([Cell(3.0)] * 3)]],
                       width=width)


CHARTS: dict[str, tuple[Callable[[int], str], tuple[str, str]]] = {
    "xmr": (_xmr, ("Would recommend as a place to work (%)", "Pulse")),
    "rate": (_rate, ("Response rate (%)", "Pulse")),
    "distribution": (_distribution, ("Share of the month's ratings (%)", "Month")),
    "interval": (_interval, ("Share rated low (%)", "Month")),
    "heatmap": (_heatmap, ("Question", "Pulses pooled")),
}


def words(element: ET.Element) -> str:
    """An element's words, its lines (tspans) joined by spaces."""
    return " ".join(part.strip() for part in element.itertext() if part.strip())


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


@pytest.mark.parametrize("width", [WIDE, NARROW])
@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_has_axis_titles_and_a_legend(name: str, width: int) -> None:
    draw, titles = CHARTS[name]
    root = ET.fromstring(draw(width))
    assert tuple(words(e) for e in with_class(root, "axis-title")) == titles
    [legend] = with_class(root, "legend")
    assert len(list(legend.iter(f"{SVG}text"))) >= 2


@pytest.mark.parametrize("width", [WIDE, NARROW])
@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_text_is_at_least_12_px_where_it_is_shown(name: str, width: int) -> None:
    root = ET.fromstring(CHARTS[name][0](width))
    view_width = float(root.attrib["viewBox"].split()[2])
    assert view_width == width and root.get("width") == "100%"
    sizes = [float(t.attrib["font-size"]) for t in root.iter(f"{SVG}text")]
    assert sizes and all(t.get("font-size") for t in root.iter(f"{SVG}text"))
    assert min(sizes) * SMALLEST_SCALE[width] >= 12


@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_no_chart_text_is_cut_mid_phrase(width: int) -> None:
    # The long action note wraps over lines rather than ending in an ellipsis.
    root = ET.fromstring(_xmr(width))
    legend = words(with_class(root, "legend")[0])
    assert f"A1: {LONG_ACTION}" in legend
    assert "…" not in "".join(root.itertext())
    heatmap = ET.fromstring(_heatmap(width))
    assert "I am able to make suggestions to improve the work of my team." in words(heatmap)


def test_response_rate_bars_are_named_in_a_legend() -> None:
    root = ET.fromstring(_rate(WIDE))
    legend = words(with_class(root, "legend")[0])
    assert "Response rate: share of invited staff who answered" in legend
    # The wave with no rate gets its marker named too.
    assert "No response rate shown (see the table)" in legend
    assert len(with_class(root, "legend-bar")) == 1


def test_xmr_legend_speaks_the_agreed_plain_words() -> None:
    root = ET.fromstring(_xmr(WIDE))
    text = words(root)
    # Six points since the chart started afresh: provisional (trial) limits.
    assert "Provisional limits: fewer than 13 pulses since the chart started afresh." in text
    assert "Chart starts afresh: new limits" in text and "Starts afresh" in text
    assert "No unusual change" in text and "Higher is better." in text
    for jargon in ("Special cause", "Common cause", "Rebase", "Trial limits", "Direction:"):
        assert jargon not in text


def test_the_narrow_heatmap_numbers_headers_that_do_not_fit_and_spells_them_out() -> None:
    columns = [f"Window {n} of pulses pooled together" for n in range(1, 9)]
    svg = heatmap_svg(title="t", description="d", rows=["Item"], columns=columns,
                      cells=[[Cell(5.0)] * 8], width=NARROW)
    root = ET.fromstring(svg)
    heads = [words(e) for e in with_class(root, "column-labels")[0]]
    assert heads == [str(n) for n in range(1, 9)]
    legend = words(with_class(root, "legend")[0])
    for n, column in enumerate(columns, start=1):
        assert f"{n}: {column}" in legend


def test_for_every_width_draws_wide_and_narrow_with_distinct_ids() -> None:
    markup = for_every_width(response_rate_svg, title="Rate", description="d",
                             labels=LABELS, rates=[50.0] * 12, chart_id="rate")
    wide, narrow = re.findall(r'<div class="pulse-chart-(wide|narrow)">(<svg.*?</svg>)</div>',
                              markup)
    assert (wide[0], narrow[0]) == ("wide", "narrow")
    assert ET.fromstring(wide[1]).attrib["viewBox"].startswith(f"0 0 {WIDE} ")
    assert ET.fromstring(narrow[1]).attrib["viewBox"].startswith(f"0 0 {NARROW} ")
    ids = re.findall(r' id="([^"]+)"', markup)
    assert len(ids) == len(set(ids)) and "rate" in ids and "rate-narrow" in ids


def test_a_narrow_plot_is_never_squashed_by_its_titles() -> None:
    # A long y-axis title wraps over more rows on a phone; the chart grows instead.
    title = "A long measure name that takes several lines on a phone (%)"
    root = ET.fromstring(xmr_svg(title="t", description="d", labels=LABELS[:4],
                                 values=VALUES[:4], chart=xmr(VALUES[:4]),
                                 improvement="increase", width=NARROW, y_label=title))
    gridlines = [float(e.attrib["y1"]) for e in with_class(root, "gridline")]
    assert max(gridlines) - min(gridlines) >= 90
    assert not math.isnan(sum(gridlines))
