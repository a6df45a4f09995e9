"""The report charts: well-formed, labelled, accessible SVG that says what analysis/ says."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from analysis.spc import xmr
from survey_app.reporting.charts import (
    Cell,
    ChartEvent,
    assurance_icon_svg,
    heatmap_svg,
    response_rate_svg,
    variation_icon_svg,
    x_positions,
    xmr_chart_svg,
    xmr_table_rows,
)
from survey_app.reporting.charts._svg import contrast_ratio

SVG = "{http://www.w3.org/2000/svg}"
# The published NHSRplotthedots case (tests/analysis/test_spc.py): point 5 (index 4)
# is special cause improvement, every other point common cause.
SPIKE = [1.0, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
LABELS = [f"{month} 2025" for month in "Jan Feb Mar Apr May Jun Jul Aug Sep".split()] + [
    f"{month} 2026" for month in "Jan Feb Mar Apr May Jun Jul Aug Sep".split()
]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on markup that is not well-formed
    assert root.tag == f"{SVG}svg"
    return root


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def centre_x(element: ET.Element) -> float:
    if element.tag == f"{SVG}circle":
        return float(element.attrib["cx"])
    if element.tag == f"{SVG}rect":
        return float(element.attrib["x"]) + float(element.attrib["width"]) / 2
    xs = [float(p.split(",")[0]) for p in element.attrib["points"].split()]
    return (min(xs) + max(xs)) / 2


def spike_chart(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "title": "Would recommend as a place to work",
        "description": "Mostly steady; May 2025 was unusually high.",
        "labels": LABELS,
        "values": SPIKE,
        "chart": xmr(SPIKE),
        "improvement": "increase",
        "unit": "",
    }
    arguments.update(overrides)
    return xmr_chart_svg(**arguments)  # type: ignore[arg-type]


def gappy() -> tuple[list[float | None], list[str | None]]:
    values: list[float | None] = [60.0, 62, 61, None, 63, 64, None, None, 62, 65]
    return values, [None] * len(values)


def test_xmr_chart_is_labelled_and_counts_points_by_variation() -> None:
    root = parse(spike_chart())
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 640 ")
    assert root.get("width") == "100%"
    title_id, desc_id = root.attrib["aria-labelledby"].split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id
    assert title.text == "Would recommend as a place to work"
    assert desc is not None and desc.get("id") == desc_id
    assert desc.text == "Mostly steady; May 2025 was unusually high."
    improvement = with_class(root, "point--special_cause_improvement")
    assert len(improvement) == 1
    assert len(with_class(root, "point--common_cause")) == len(SPIKE) - 1
    assert not with_class(root, "point--special_cause_concern")
    # The special point is a different shape, at the fifth wave, and named in words.
    assert improvement[0].tag == f"{SVG}rect"
    assert {e.tag for e in with_class(root, "point--common_cause")} == {f"{SVG}circle"}
    assert centre_x(improvement[0]) == pytest.approx(x_positions(len(SPIKE), 640)[4], abs=0.01)
    tooltip = improvement[0].find(f"{SVG}title")
    assert tooltip is not None and tooltip.text == "May 2025: 10, Unusual rise, better"
    legend = "".join(with_class(root, "legend")[0].itertext())
    assert "Unusual rise, better" in legend and "No unusual change" in legend
    assert "Special cause" not in legend and "Common cause" not in legend
    # One mean, two process limits and two near limits for the single segment.
    assert len(with_class(root, "mean")) == 1
    assert len(with_class(root, "limit")) == 2
    assert len(with_class(root, "near-limit")) == 2


def test_concern_is_a_diamond_when_lower_is_better() -> None:
    chart = xmr(SPIKE, improvement="decrease")
    root = parse(spike_chart(chart=chart, improvement="decrease"))
    concern = with_class(root, "point--special_cause_concern")
    assert [e.tag for e in concern] == [f"{SVG}polygon"]
    assert not with_class(root, "point--special_cause_improvement")


def test_gaps_break_the_line_and_are_marked() -> None:
    values, _ = gappy()
    series = [math.nan if v is None else v for v in values]
    root = parse(spike_chart(labels=LABELS[:10], values=values, chart=xmr(series)))
    xs = x_positions(10, 640)
    lines = with_class(root, "data-line")
    runs = [[float(p.split(",")[0]) for p in line.attrib["points"].split()] for line in lines]
    assert [len(run) for run in runs] == [3, 2, 2]
    for gap in (3, 6, 7):
        for run in runs:
            assert not min(run) < xs[gap] < max(run)
    hidden = with_class(root, "hidden-wave")
    assert len(hidden) == 3
    assert [centre_x(e) for e in hidden] == pytest.approx([xs[3], xs[6], xs[7]], abs=0.01)
    assert len(with_class(root, "point")) == 7


def test_rebase_draws_each_segment_apart() -> None:
    chart = xmr(SPIKE, rebase_at=[9])
    root = parse(spike_chart(chart=chart))
    assert len(with_class(root, "mean")) == 2
    rebase = with_class(root, "rebase")
    assert len(rebase) == 1
    xs = x_positions(len(SPIKE), 640)
    assert float(rebase[0].attrib["x1"]) == pytest.approx((xs[8] + xs[9]) / 2, abs=0.01)
    first, second = with_class(root, "mean")
    assert float(first.attrib["x2"]) == pytest.approx(float(second.attrib["x1"]))
    assert float(first.attrib["y1"]) != pytest.approx(float(second.attrib["y1"]))


def test_events_are_drawn_with_their_text() -> None:
    events = [ChartEvent("A1", 6, "Handovers moved to 8:30 after staff said they were rushed")]
    root = parse(spike_chart(events=events))
    markers = with_class(root, "event")
    assert len(markers) == 1
    text = "".join(markers[0].itertext())
    assert "A1" in text and "Handovers moved to 8:30" in text
    line = with_class(root, "event-line")[0]
    assert float(line.attrib["x1"]) == pytest.approx(x_positions(len(SPIKE), 640)[6], abs=0.01)
    legend = "".join(with_class(root, "legend")[0].itertext())
    assert "A1: Handovers moved to 8:30 after staff said they were rushed" in legend


def test_event_outside_the_series_is_refused() -> None:
    with pytest.raises(ValueError, match="at_index"):
        spike_chart(events=[ChartEvent("A1", len(SPIKE), "late")])


def test_text_is_escaped() -> None:
    nasty = 'Team <A> & "B" </svg><script>x</script>'
    svg = spike_chart(
        title=nasty,
        description=nasty,
        labels=[nasty] * len(SPIKE),
        events=[ChartEvent(nasty, 0, nasty)],
    )
    root = parse(svg)
    assert "<script" not in svg
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == nasty
    assert not [e for e in root.iter() if e.tag.endswith("script")]


def test_no_inline_style_anywhere() -> None:
    values, reasons = gappy()
    series = [math.nan if v is None else v for v in values]
    outputs = [
        spike_chart(events=[ChartEvent("A1", 2, "x")], chart=xmr(SPIKE, rebase_at=[9])),
        spike_chart(labels=LABELS[:10], values=values, chart=xmr(series)),
        response_rate_svg(title="t", description="d", labels=LABELS[:10], rates=values),
        heatmap_svg(title="t", description="d", rows=["a"], columns=["w1", "w2"],
                    cells=[[Cell(5.0), Cell(None, "too few answers")]]),
        variation_icon_svg("special_cause_concern", "increase"),
        assurance_icon_svg(None),
    ]
    for svg in outputs:
        root = parse(svg)
        assert all("style" not in e.attrib for e in root.iter())
        assert not any(e.tag in (f"{SVG}style", f"{SVG}script") for e in root.iter())
        assert not re.search(r"\bhref=|https?://(?!www\.w3\.org/2000/svg)", svg)


def test_response_rate_bars_line_up_with_the_xmr_points() -> None:
    rates: list[float | None] = [40.0 + i for i in range(len(SPIKE))]
    rates[3] = None
    chart_root = parse(spike_chart())
    rate_root = parse(
        response_rate_svg(title="Response rate", description="Falling slowly.",
                          labels=LABELS, rates=rates)
    )
    assert rate_root.get("role") == "img"
    points = [centre_x(e) for e in with_class(chart_root, "point")]
    bars = [centre_x(e) for e in with_class(rate_root, "bar")]
    assert len(bars) == len(SPIKE) - 1
    assert bars == pytest.approx([x for i, x in enumerate(points) if i != 3], abs=0.01)
    assert centre_x(with_class(rate_root, "hidden-wave")[0]) == pytest.approx(points[3], abs=0.01)


def test_response_rate_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match=r"rates\[1\]"):
        response_rate_svg(title="t", description="d", labels=["a", "b"], rates=[50.0, 101.0])


def test_table_rows_say_the_variation_in_words() -> None:
    values: list[float | None] = list(SPIKE)
    values[7] = None
    chart = xmr([math.nan if v is None else v for v in values])
    rows = xmr_table_rows(LABELS, values, chart)
    assert len(rows) == len(SPIKE)
    assert rows[4]["variation"] == "Unusual rise, better"
    assert rows[0]["variation"] == "No unusual change"
    assert rows[7] == {
        "label": "Aug 2025",
        "value": None,
        "mean": chart.mean[7],
        "lower": chart.lower[7],
        "upper": chart.upper[7],
        "variation": "Hidden: too few answers",
    }
    assert rows[4]["value"] == 10.0


def test_values_and_chart_must_agree_on_gaps() -> None:
    values: list[float | None] = list(SPIKE)
    values[2] = None
    with pytest.raises(ValueError, match="hidden"):
        xmr_table_rows(LABELS, values, xmr(SPIKE))
    with pytest.raises(ValueError, match="improvement"):
        spike_chart(improvement="decrease")


def test_heatmap_hidden_cells_show_a_dash_and_no_number() -> None:
    cells = [
        [Cell(7.25), Cell(None, "too few answers"), Cell(10.0)],
        [Cell(0.0), Cell(3.1), Cell(None, "hidden to protect another group")],
    ]
    root = parse(
        heatmap_svg(
            title="Rotating items <by window>",
            description="Item scores over rolling three-wave windows.",
            rows=["I feel able to raise concerns about patient safety at work", "Short"],
            columns=["Jan–Mar 2025", "Feb–Apr 2025", "Mar–May 2025"],
            cells=cells,
        )
    )
    assert root.get("role") == "img"
    hidden = with_class(root, "cell--hidden")
    assert len(hidden) == 2
    for cell in hidden:
        label = cell.find(f"{SVG}text")
        assert label is not None and label.text == "–"
        assert not re.search(r"\d", "".join(label.itertext()))
        assert (cell.find(f"{SVG}rect") or ET.Element("x")).get("fill", "").startswith("url(#")
    shown = [c for c in with_class(root, "cell") if c not in hidden]
    assert ["".join(c.itertext()).split("out of 10")[-1] for c in shown] == [
        "7.2", "10", "0", "3.1"
    ]
    legend = "".join(with_class(root, "legend")[0].itertext())
    assert "0 to under 2" in legend and "8 to 10" in legend
    assert "Hidden: too few answers" in legend and "Hidden: hidden to protect" in legend
    # Every written score contrasts with its shade at WCAG AA for text.
    for cell in shown:
        rect, label = cell.find(f"{SVG}rect"), cell.find(f"{SVG}text")
        assert rect is not None and label is not None
        assert contrast_ratio(rect.attrib["fill"], label.attrib["fill"]) >= 4.5


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([[Cell(11.0)]], "between 0 and 10"),
        ([[Cell(None)]], "value or a hidden_reason"),
        ([[Cell(5.0), Cell(5.0)]], "columns"),
    ],
)
def test_heatmap_refuses_bad_cells(cells: list[list[Cell]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        heatmap_svg(title="t", description="d", rows=["a"], columns=["w"], cells=cells)


@pytest.mark.parametrize(
    ("variation", "improvement", "letter", "label"),
    [
        ("special_cause_improvement", "increase", "H",
         "Unusual rise, better (Special cause improving variation; higher is better)"),
        ("special_cause_improvement", "decrease", "L",
         "Unusual fall, better (Special cause improving variation; lower is better)"),
        ("special_cause_concern", "increase", "L",
         "Unusual fall, worse (Special cause concerning variation; higher is better)"),
        ("special_cause_concern", "decrease", "H",
         "Unusual rise, worse (Special cause concerning variation; lower is better)"),
        ("special_cause_neutral_high", "neutral", "H",
         "Unusual rise (Special cause variation, neither better nor worse; "
         "neither direction is better)"),
        ("special_cause_neutral_low", "neutral", "L",
         "Unusual fall (Special cause variation, neither better nor worse; "
         "neither direction is better)"),
        ("common_cause", "increase", None,
         "No unusual change (Common cause variation; higher is better)"),
    ],
)
def test_variation_icon_carries_letter_and_words(
    variation: str, improvement: str, letter: str | None, label: str
) -> None:
    root = parse(variation_icon_svg(variation, improvement))
    assert root.get("role") == "img"
    assert root.get("aria-label") == label
    texts = [e.text for e in root.iter(f"{SVG}text")]
    if letter is None:
        assert root.find(f"{SVG}polyline") is not None
    else:
        assert texts[0] == letter
    # The visible label is the plain words, the start of the full sentence.
    assert texts[-1] and label.startswith(texts[-1] + " (")


@pytest.mark.parametrize(
    ("assurance", "letter", "words"),
    [
        ("consistent_pass", "P", "consistently be met"),
        ("consistent_fail", "F", "consistently be missed"),
        ("inconsistent", "?", "may or may not be met"),
        (None, "–", "No target set (Assurance: not assessed without a target)"),
    ],
)
def test_assurance_icon(assurance: str | None, letter: str, words: str) -> None:
    root = parse(assurance_icon_svg(assurance))
    assert root.get("role") == "img"
    assert words in root.attrib["aria-label"]
    assert next(root.iter(f"{SVG}text")).text == letter


def test_icons_refuse_labels_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        variation_icon_svg("special_cause_improvement", "neutral")
    with pytest.raises(ValueError, match="improvement must be"):
        variation_icon_svg("common_cause", "up")
    with pytest.raises(ValueError, match="assurance must be"):
        assurance_icon_svg("pass")


def test_same_chart_renders_the_same_markup_and_ids_differ_between_charts() -> None:
    assert spike_chart() == spike_chart()
    first = parse(spike_chart()).attrib["aria-labelledby"]
    second = parse(spike_chart(title="Another")).attrib["aria-labelledby"]
    assert first != second
