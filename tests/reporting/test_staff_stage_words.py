"""Staff read where an action has got to, not the improvement cycle's stage names."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from survey_app import demo
from survey_app.core.clock import local_date, utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import Team
from survey_app.reporting import actions
from survey_app.reporting.staff_results import stage_for_staff


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.data.decode())).split())


@pytest.mark.parametrize("stage, words", [
    ("Plan", "Planned"),
    ("Do", "Under way"),
    ("Study", "Checking whether it worked"),
    ("Act", "Made part of how we work"),
    ("study", "Checking whether it worked"),
    (" Act ", "Made part of how we work"),
    ("Try", "Try"),  # an INT's own stage names are its staff's words already
    ("Learn and share", "Learn and share"),
    ("Check", "Check"),
])
def test_each_pdsa_stage_has_staff_words_and_others_stay_as_typed(stage, words):
    assert stage_for_staff(stage) == words


@pytest.mark.db
def test_the_staff_page_says_what_is_happening_and_the_lead_page_keeps_the_stage(
        client, login, riverside):
    # The demo's latest action for district nursing is at the "Study" stage.
    staff = client.get(f"/results/{riverside.slug}/{demo.IMPROVING_TEAM}")
    assert "Checking whether it worked" in _text(staff)
    assert "Study" not in _text(staff)
    thanks = client.get(f"/thank-you/{riverside.slug}/{demo.IMPROVING_TEAM}")
    assert "Checking whether it worked" in _text(thanks) and "Study" not in _text(thanks)

    assert login(client, f"lead@{demo.EMAIL_DOMAIN}", DEMO_PASSWORD).status_code == 302
    lead = client.get(f"/reports/{riverside.slug}/teams/{demo.IMPROVING_TEAM}")
    assert "Study" in _text(lead)


@pytest.mark.db
def test_an_int_s_own_stage_names_reach_staff_as_typed(session, client, riverside):
    riverside.action_stages = "Try,Learn,Keep"
    session.add(riverside)
    team = session.exec(select(Team).where(Team.neighbourhood_id == riverside.id,
                                           Team.slug == "social-care")).one()
    now = utcnow()
    actions.add_action(session, neighbourhood=riverside, team_id=team.id,
                       taken_on=local_date(now) - timedelta(days=1), stage="Learn",
                       description="Shared what the rota change taught us.", user_id=None,
                       now=now)
    session.commit()
    page = client.get(f"/results/{riverside.slug}/social-care")
    assert ">Learn</strong>" in page.data.decode()
    assert "Shared what the rota change taught us." in _text(page)
