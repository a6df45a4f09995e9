"""The overview and the ICB view speak plain English first (issue 13, point 9).

The Making Data Count terms and the statistics are one click away: inside a
``<details>`` (a row's "Statistics" or the page's "How to read this page"), never in
the text a lead reads first.
"""

from __future__ import annotations

import html
import math
import re

import pytest

from analysis.fatigue import FatigueAssessment, IndicatorTrend
from survey_app import demo
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.reporting.overview import (
    ResponseTrend,
    p_value_words,
    plain_reason,
    response_trend,
)

LEAD = f"lead@{demo.EMAIL_DOMAIN}"
ADMIN = f"admin@{demo.EMAIL_DOMAIN}"
JARGON = ("Special cause", "Common cause", "Trial limits", "trial limits", "p <", "p =",
          "rebase", "Assurance")


def read_first(page: str) -> str:
    """The page's text outside every <details>, as a lead reads it before clicking.

    An icon's <title> goes too (its visible label stays): like its aria-label it is
    icons.py's full sentence, the plain words first and then the term, for a screen
    reader or a hover.
    """
    body = page[page.index("<body"):]
    for hidden in (r"<details\b.*?</details>", r"<title>.*?</title>"):
        body = re.sub(hidden, " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def details_text(page: str) -> str:
    found = re.findall(r"<details\b.*?</details>", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", " ".join(found))).split())


def test_the_overview_reads_in_plain_words(client, login, riverside):
    login(client, LEAD, DEMO_PASSWORD)
    page = client.get(f"/reports/{demo.INT_SLUG}").get_data(as_text=True)
    first = read_first(page)
    assert [word for word in JARGON if word in first] == []
    # The demo: district nursing's real rise, three steady teams, no target, 12 pulses.
    assert first.count("Unusual rise, better") == 1
    assert first.count("No unusual change") == 3
    assert first.count("No target set") == 4
    assert first.count("Provisional limits: fewer than 13 pulses since the chart "
                       "started afresh") == 4
    assert "Falling response rate, unlikely to be chance" in first
    assert "Change over time (place to work)" in first
    # One click away: the terms and the tests behind those words.
    details = details_text(page)
    assert "Special cause improving variation" in details
    assert "Common cause variation" in details
    assert "Assurance: not assessed without a target" in details
    assert "trial limits" in details and "rebase" in details
    assert re.search(r"Response rate: trend test p (<|=) 0\.\d{3}", details)


def test_the_icb_view_reads_in_plain_words(client, login, riverside):
    login(client, ADMIN, DEMO_PASSWORD)
    page = client.get("/reports/icb").get_data(as_text=True)
    first = read_first(page)
    assert [word for word in JARGON if word in first] == []
    assert "Teams with an unusual rise, better" in first
    assert "Teams with an unusual fall, worse" in first
    details = details_text(page)
    assert "special cause improving variation" in details
    assert "special cause concerning variation" in details


def test_the_reports_index_reads_in_plain_words(client, login, riverside):
    login(client, ADMIN, DEMO_PASSWORD)
    first = read_first(client.get("/reports/").get_data(as_text=True))
    assert [word for word in JARGON if word in first] == []
    assert "Every INT side by side" in first


def _fatigue(start: float, end: float, p_value: float, worsening: bool) -> FatigueAssessment:
    trend = IndicatorTrend("response_rate", start, end, -3.0, p_value, worsening, 12)
    return FatigueAssessment(level="fatigued" if worsening else "none", reasons=(),
                             n_waves=12, trends=(trend,), alpha_per_indicator=0.01,
                             response_rate_drop=start - end, dispersion=1.0,
                             last_wave_below_limit=False)


@pytest.mark.parametrize(("start", "end", "p_value", "worsening", "direction", "words",
                          "statistics"), [
    (0.7, 0.4, 0.0002, True, "falling",
     "Falling response rate, unlikely to be chance: 70% to 40% over 12 pulses",
     "trend test p < 0.001"),
    # One-sided towards a fall: 0.996 for a fall is p = 0.004 for a rise.
    (0.4, 0.7, 0.996, False, "rising",
     "Rising response rate, unlikely to be chance: 40% to 70% over 12 pulses",
     "trend test p = 0.004"),
    (0.5, 0.45, 0.2, False, "steady",
     "No clear trend in response rate: 50% to 45% over 12 pulses", "trend test p = 0.200"),
])
def test_the_response_rate_trend_in_the_agreed_words(start, end, p_value, worsening,
                                                     direction, words, statistics):
    trend = response_trend(_fatigue(start, end, p_value, worsening))
    assert trend.direction == direction
    assert trend.words == words
    assert trend.headline == words.split(":")[0]
    assert trend.statistics == statistics


def test_too_few_pulses_make_no_trend_and_no_statistic():
    trend = ResponseTrend("unknown", math.nan, math.nan, 2)
    assert trend.words == "Too few pulses to tell a trend in response rate"
    assert trend.span is None and trend.statistics is None


def test_a_fatigue_reason_keeps_its_sentence_and_gives_up_its_p_value():
    assert plain_reason("Response rate fell from 68% to 32% over 12 pulses "
                        "(trend p < 0.001).") == (
        "Response rate fell from 68% to 32% over 12 pulses.", "trend test p < 0.001")
    assert plain_reason("Items left blank rose from 2% to 9% of those shown over 6 pulses "
                        "(trend p = 0.004).") == (
        "Items left blank rose from 2% to 9% of those shown over 6 pulses.",
        "trend test p = 0.004")
    no_test = "No sign of survey fatigue over 12 pulses: no worsening trend in 3 indicators."
    assert plain_reason(no_test) == (no_test, None)
    assert p_value_words(0.0123) == "trend test p = 0.012"
