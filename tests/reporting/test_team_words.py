"""The team page speaks plain English first (issue 13, point 9): the agreed words for
the fatigue trend and the charts, with the statistics and the Making Data Count terms
one click away, and rebase options short enough to read whole on a phone."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import Neighbourhood, Team
from survey_app.reporting import overview, team_report

TEAM = "district-nursing"


@pytest.fixture
def page(session, client, login, riverside) -> str:
    slug = session.exec(select(Neighbourhood.slug)).one()
    assert login(client, "lead@riverside-int.example", DEMO_PASSWORD).status_code == 302
    return client.get(f"/reports/{slug}/teams/{TEAM}").data.decode()


def _details(html: str) -> str:
    return " ".join(re.findall(r"<details.*?</details>", html, re.S))


def _outside_details(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def test_fatigue_reads_plain_words_first_and_its_p_values_in_details(page, session):
    team = session.exec(select(Team).where(Team.slug == TEAM)).one()
    fatigue = overview.fatigue_of(overview.team_series(session, team_id=team.id))
    trend = overview.response_trend(fatigue)
    # The demo's district nurses answer less and less: a real, significant fall.
    assert trend.direction == "falling"
    section = page[page.index('id="fatigue"'):page.index('id="actions"')]
    assert "Falling response rate, unlikely to be chance" in _outside_details(section)
    assert not re.search(r"\bp [<=]", _outside_details(section))
    assert f"Response rate: {overview.p_value_words(trend.p_value)} over" in _details(section)


def test_chart_jargon_is_only_inside_details(page):
    outside = _outside_details(page)
    for jargon in ("Special cause", "Common cause", "special cause", "common cause",
                   "Rebase", "rebase", "Trial limits", "trial limits", "p &lt; 0.001"):
        # The rebase form posts to .../rebase and the charts carry class="rebase": words
        # a person reads are what matter, so look at the text between tags.
        readable = " ".join(re.findall(r">([^<]+)<", outside))
        assert jargon not in readable, jargon
    inside = _details(page)
    assert "common cause variation" in inside and "rebase" in inside


def test_rebase_options_name_only_their_pulse(page, app, session):
    team = session.exec(select(Team).where(Team.slug == TEAM)).one()
    report = team_report.team_report(
        session, team=team, instrument=app.extensions["pulse_instruments"]["team-pulse"],
        threshold=app.config["PULSE_SUPPRESSION_THRESHOLD"], now=utcnow(),
        with_comments=False)
    assert report.rebase_candidates, "the demo team shows a lasting change somewhere"
    select_html = re.search(r'<select[^>]*name="wave_id".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", select_html)
    assert options == [c.label for c in report.rebase_candidates]
    # What each chart shows there is listed above the form, whole.
    listed = re.search(r'<ul[^>]*id="rebase-candidates".*?</ul>', page, re.S).group(0)
    for candidate in report.rebase_candidates:
        assert "; ".join(candidate.reasons).replace("'", "&#39;") in listed

