"""Setting a schedule in a real browser (issue 13): the admin chooses the INT first, then the
team list holds only that INT's teams; at a phone's width and a desktop's, axe-core clean
at each step, with a screenshot of each. The page has no script of its own (plain GET and
POST forms), so this walk is the same with JavaScript off; axe needs it on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from survey_app import demo
from survey_app.models import Schedule, Team
from tests.browser.pages import sign_in

pytestmark = pytest.mark.browser

RIVERSIDE = "Riverside Integrated Neighbourhood Team"
RIVERSIDE_TEAMS = ["Every team of the INT", "Adult social care", "Community mental health",
                   "District nursing", "Riverside Medical Practice"]


def _check(page: Any, axe_violations: Any, width: int) -> None:
    assert axe_violations(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _team_options(page: Any) -> list[str]:
    return [" ".join(label.split()) for label in page.locator("#team option").all_inner_texts()]


@pytest.mark.parametrize("width, height", [(360, 640), (1280, 800)])
def test_the_schedule_form_lists_only_the_chosen_ints_teams(
        live_server, new_page, riverside, make_team, session, axe_violations, screenshot,
        width, height):
    make_team(slug="podiatry", size=0, int_slug="northgate")
    page = new_page(width, height)
    sign_in(page, live_server, "admin@riverside-int.example",
            password=demo.patients.DEMO_PASSWORD, landing="**/admin/users")

    # Two INTs: the form asks which first, and offers no team yet.
    page.goto(live_server + "/admin/schedules")
    assert page.locator("#team").count() == 0
    _check(page, axe_violations, width)
    screenshot(page, f"test_schedule_form_choose_int-{width}")

    page.get_by_label("INT", exact=True).select_option(label=RIVERSIDE)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**/admin/schedules?int={demo.INT_SLUG}*")
    assert _team_options(page) == RIVERSIDE_TEAMS
    _check(page, axe_violations, width)
    screenshot(page, f"test_schedule_form_riverside_teams-{width}")

    page.get_by_label("Team", exact=True).select_option(label="District nursing")
    page.get_by_label("Quarterly (January, April, July and October), on a chosen weekday").check()
    page.locator("#start_date-day").fill("1")
    page.locator("#start_date-month").fill("12")
    page.locator("#start_date-year").fill("2026")
    page.get_by_role("button", name="Save schedule").click()
    page.get_by_text("Saved the schedule for District nursing").wait_for()
    session.expire_all()
    nursing = session.exec(select(Team).where(Team.slug == "district-nursing")).one()
    assert [s.team_id for s in session.exec(select(Schedule)).all()] == [nursing.id]
    # Still on Riverside, ready for the next team.
    assert _team_options(page) == RIVERSIDE_TEAMS
    _check(page, axe_violations, width)
    screenshot(page, f"test_schedule_form_saved-{width}")

    page.get_by_role("link", name="Change INT").click()
    page.get_by_label("INT", exact=True).select_option(label="northgate INT")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/admin/schedules?int=northgate*")
    assert _team_options(page) == ["Every team of the INT", "Podiatry"]
    _check(page, axe_violations, width)
    screenshot(page, f"test_schedule_form_other_int-{width}")
