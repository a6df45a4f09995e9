"""Report charts in a real browser (issue 13, point 8): at a phone's 360x640 and a
desktop's 1280x800, every chart's text renders at 12 px or more and inside its chart,
every chart shows its axis titles and a legend, no chart is wider than its box, and
axe-core finds nothing on the team and activation pages.  Screenshots go to
test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from survey_app import demo
from survey_app.demo.patients import DEMO_PASSWORD
from tests.browser.pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.page_only]

SIZES = [(360, 640), (1280, 800)]
LEAD = f"lead@{demo.EMAIL_DOMAIN}"
TEAM = f"/reports/{demo.INT_SLUG}/teams/district-nursing"
ACTIVATION = f"/reports/{demo.INT_SLUG}/activation"
OVERVIEW = f"/reports/{demo.INT_SLUG}"
MIN_TEXT_PX = 12

# Every shown chart (a time chart or heatmap, svg.chart; an overview icon, svg.icon) and
# each of its texts at the size it renders: the font-size in viewBox units times the
# chart's scale (its rendered width over its viewBox width).
CHARTS = """() => [...document.querySelectorAll('svg.chart, svg.icon')]
  .filter((svg) => svg.checkVisibility() && svg.getBoundingClientRect().width > 0)
  .map((svg) => {
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const container = svg.parentElement.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].map((t) => ({
      words: t.textContent.trim().slice(0, 40),
      px: Math.round(parseFloat(getComputedStyle(t).fontSize) * scale * 100) / 100,
      // Wholly inside the chart: text past its edge is cut off mid-word.
      inside: ((r) => r.left >= box.left - 1 && r.right <= box.right + 1
               && r.top >= box.top - 1 && r.bottom <= box.bottom + 1)(t.getBoundingClientRect()),
    }));
    // A text wrapped over lines is one <text> of <tspan>s: its words joined by spaces.
    const words = (t) => (t.querySelector('tspan')
      ? [...t.querySelectorAll('tspan')].map((s) => s.textContent.trim()).join(' ')
      : t.textContent.trim());
    const visible = (selector) => [...svg.querySelectorAll(selector)]
      .filter((t) => t.getBoundingClientRect().width > 0).map(words);
    return {id: svg.id || svg.getAttribute('aria-label'), isChart: svg.matches('.chart'),
            width: box.width, container: container.width, texts,
            axisTitles: visible('.axis-title'), legend: visible('.legend text')};
  })"""


def _charts(page: Any) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = page.evaluate(CHARTS)
    assert charts, f"{page.url}: no chart is shown"
    return charts


def _assert_readable(page: Any, width: int) -> list[dict[str, Any]]:
    """Every chart's text at 12 px or more, and no chart wider than its box or the page."""
    charts = _charts(page)
    small = [(c["id"], t["words"], t["px"]) for c in charts for t in c["texts"]
             if t["px"] < MIN_TEXT_PX]
    assert small == [], f"{page.url} at {width}px: text under {MIN_TEXT_PX}px: {small[:10]}"
    cut = [(c["id"], t["words"]) for c in charts for t in c["texts"] if not t["inside"]]
    assert cut == [], f"{page.url} at {width}px: text cut off at a chart's edge: {cut[:10]}"
    wide = [(c["id"], c["width"], c["container"]) for c in charts
            if c["width"] > c["container"] + 0.5]
    assert wide == [], f"{page.url} at {width}px: charts wider than their box: {wide}"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"{page.url} is {scroll}px wide at {width}px"
    return [c for c in charts if c["isChart"]]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_team_charts_are_readable_labelled_and_accessible(
        riverside, live_server, new_page, axe_violations, screenshot, width, height):
    page = new_page(width, height)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    page.goto(live_server + TEAM)
    charts = _assert_readable(page, width)
    # Three measures (an XmR chart and its response-rate bars each) and the heatmap.
    assert len(charts) == 7, [c["id"] for c in charts]
    # Only the drawing meant for this width is shown, never both.
    narrow = width < 720
    assert all(c["id"].endswith("-narrow") == narrow for c in charts)
    for chart in charts:
        assert len(chart["axisTitles"]) == 2, chart["id"]
        assert chart["legend"], chart["id"]
    titles = {c["id"].removesuffix("-narrow"): c["axisTitles"] for c in charts}
    # The y-axis title may wrap over two lines on a phone (one text, two tspans).
    assert titles["team-recommend_work"] == ["Would recommend as a place to work (%)",
                                             "Pulse (month it opened)"]
    assert titles["team-recommend_work-rate"][0] == "Response rate (%)"
    rate_legend = next(c["legend"] for c in charts
                       if c["id"].removesuffix("-narrow") == "team-recommend_work-rate")
    assert "Response rate: share of invited staff who answered" in rate_legend
    assert titles["team-heatmap"] == ["Question", "Groups of 3 pulses"]
    # The legend speaks plain English; the Making Data Count words are one click away.
    legends = " ".join(" ".join(c["legend"]) for c in charts)
    assert "No unusual change" in legends
    assert "Special cause" not in legends and "Common cause" not in legends
    assert "Rebase" not in legends and "Trial limits" not in legends
    assert axe_violations(page) == []
    screenshot(page, f"test_team_charts_are_readable_labelled_and_accessible-{width}")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_activation_charts_are_readable_labelled_and_accessible(
        riverside, live_server, new_page, axe_violations, screenshot, width, height):
    page = new_page(width, height)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    page.goto(live_server + ACTIVATION)
    charts = _assert_readable(page, width)
    assert len(charts) == 2, [c["id"] for c in charts]
    by_id = {c["id"].removesuffix("-narrow"): c for c in charts}
    assert by_id["activation-distribution"]["axisTitles"] == [
        "Share of the month's ratings (%)", "Month"]
    assert by_id["activation-low"]["axisTitles"] == ["Share rated low (%)", "Month"]
    assert "1 Not very (low, hatched)" in by_id["activation-distribution"]["legend"]
    assert "Share rated low" in by_id["activation-low"]["legend"]
    assert axe_violations(page) == []
    screenshot(page, f"test_activation_charts_are_readable_labelled_and_accessible-{width}")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_overview_icons_are_readable(riverside, live_server, new_page, screenshot,
                                     width, height):
    page = new_page(width, height)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    page.goto(live_server + OVERVIEW)
    _assert_readable(page, width)
    screenshot(page, f"test_overview_icons_are_readable-{width}")
