"""The schedule form offers only the chosen INT's teams (issue 13), without JavaScript:
the INT is chosen first (``?int=<slug>``), unless there is only one."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import select

from survey_app import demo
from survey_app.models import Schedule, Team

RIVERSIDE = "Riverside Integrated Neighbourhood Team"
# The demo's four teams, as the select lists them (by name).
RIVERSIDE_TEAMS = ["Adult social care", "Community mental health", "District nursing",
                   "Riverside Medical Practice"]
QUARTERLY = {"cadence_kind": "quarterly", "every_weeks": "4", "nth": "1", "weekday": "1",
             "send_time": "09:00", "window_days": "14", "reminder": "yes",
             "quiet_start": "20:00", "quiet_end": "08:00", "start_date-day": "1",
             "start_date-month": "12", "start_date-year": "2026", "end_date-day": "",
             "end_date-month": "", "end_date-year": ""}


@pytest.fixture
def admin(client, riverside, login):
    """The test client, signed in as the demo's admin."""
    response = login(client, "admin@riverside-int.example", demo.patients.DEMO_PASSWORD)
    assert response.status_code == 302
    return client


@pytest.fixture
def podiatry(riverside, make_team) -> Team:
    """A second INT beside the demo, with one team of its own."""
    return make_team(slug="podiatry", size=0, int_slug="northgate")


def _options(page: str, select_id: str) -> list[str]:
    """The labels of one select's options, in page order."""
    found = re.search(rf'<select[^>]* id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select #{select_id}"
    return [html.unescape(label) for label in re.findall(r"<option[^>]*>([^<]*)</option>",
                                                          found.group(1))]


def _post(admin: Any, hidden_fields: Any, int_slug: str, **changes: str) -> Any:
    token = hidden_fields(admin.get(f"/admin/schedules?int={int_slug}").data)["csrf_token"]
    return admin.post(f"/admin/schedules?int={int_slug}",
                      data={**QUARTERLY, "neighbourhood": int_slug, "team": "", "save": "y",
                            "csrf_token": token, **changes})


def test_with_several_ints_the_int_is_chosen_first(admin, podiatry):
    response = admin.get("/admin/schedules")
    page = response.data.decode()
    assert response.status_code == 200
    # Sorted here: SQLite and PostgreSQL collate capitals differently.
    assert sorted(_options(page, "int")) == [RIVERSIDE, "northgate INT"]
    assert 'id="team"' not in page and "Save schedule" not in page


@pytest.mark.parametrize("int_slug, expected", [
    (demo.INT_SLUG, ["Every team of the INT", *RIVERSIDE_TEAMS]),
    ("northgate", ["Every team of the INT", "Podiatry"]),
])
def test_the_team_list_holds_only_the_chosen_ints_teams(admin, podiatry, int_slug, expected):
    response = admin.get(f"/admin/schedules?int={int_slug}")
    page = html.unescape(response.data.decode())
    assert response.status_code == 200
    assert _options(page, "team") == expected
    assert f'<input type="hidden" name="neighbourhood" value="{int_slug}">' in page
    assert 'href="/admin/schedules#schedule-form">Change INT' in page


def test_with_one_int_the_choosing_step_is_skipped(admin, riverside):
    page = html.unescape(admin.get("/admin/schedules").data.decode())
    assert _options(page, "team") == ["Every team of the INT", *RIVERSIDE_TEAMS]
    assert 'name="int"' not in page and "Change INT" not in page


def test_an_unknown_int_in_the_address_is_named(admin, podiatry):
    response = admin.get("/admin/schedules?int=nowhere")
    assert response.status_code == 400
    page = html.unescape(response.data.decode())
    assert '<a href="#int">Choose an INT from the list</a>' in page
    assert sorted(_options(page, "int")) == [RIVERSIDE, "northgate INT"]


@pytest.mark.parametrize("team, named", [
    ("podiatry", "Podiatry"),  # a real team id, of the other INT
    ("999999", "That team"),
    ("abc", "That team"),
    ("99999999999999999999", "That team"),  # beyond any database integer
])
def test_a_team_not_of_the_chosen_int_gets_a_message(admin, podiatry, hidden_fields, session,
                                                     team, named):
    value = str(podiatry.id) if team == "podiatry" else team
    response = _post(admin, hidden_fields, demo.INT_SLUG, team=value)
    assert response.status_code == 400
    page = html.unescape(response.data.decode())
    assert (f'<a href="#team">{named} is not a team of {RIVERSIDE}: choose one of its '
            "teams, or every team</a>") in page
    assert session.exec(select(Schedule)).all() == []


def test_a_team_of_the_chosen_int_is_saved_and_the_int_stays_chosen(admin, podiatry,
                                                                     hidden_fields, session):
    nursing = session.exec(select(Team).where(Team.slug == "district-nursing")).one()
    response = _post(admin, hidden_fields, demo.INT_SLUG, team=str(nursing.id))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/schedules?int={demo.INT_SLUG}"
    [schedule] = session.exec(select(Schedule)).all()
    assert (schedule.neighbourhood_id, schedule.team_id) == (nursing.neighbourhood_id,
                                                             nursing.id)
    page = html.unescape(admin.get(response.headers["Location"]).data.decode())
    assert "Saved the schedule for District nursing" in page
    assert _options(page, "team")[1:] == RIVERSIDE_TEAMS
