"""The action log and rebase points: what is stored, what is refused, where it is drawn."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from survey_app.core.clock import LONDON, utcnow
from survey_app.models import Neighbourhood, TeamAction, TeamRebase, Wave
from survey_app.pulse import waves
from survey_app.reporting import actions, team_report
from survey_app.reporting.actions import ActionError


@pytest.fixture
def team(make_team):
    return make_team(slug="nursing", size=6)


@pytest.fixture
def neighbourhood(session, team):
    return session.get(Neighbourhood, team.neighbourhood_id)


def add(session, neighbourhood, team, **change):
    now = utcnow()
    values = {"taken_on": now.date(), "description": "Weekly huddle", "stage": "Do", **change}
    return actions.add_action(session, neighbourhood=neighbourhood, team_id=team.id,
                              user_id=None, now=now, **values)


def test_stages_default_to_pdsa_and_follow_the_int(session, neighbourhood):
    assert actions.stages_of(neighbourhood) == ["Plan", "Do", "Study", "Act"]
    neighbourhood.action_stages = " Try , Learn,, Keep "
    assert actions.stages_of(neighbourhood) == ["Try", "Learn", "Keep"]
    neighbourhood.action_stages = " , "
    assert actions.stages_of(neighbourhood) == ["Plan", "Do", "Study", "Act"]


def test_an_action_is_stored_with_its_words_tidied(session, neighbourhood, team):
    action = add(session, neighbourhood, team, description="  Weekly\n huddle   started ")
    session.commit()
    stored = session.get(TeamAction, action.id)
    assert stored.description == "Weekly huddle started"
    assert (stored.team_id, stored.stage) == (team.id, "Do")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"description": " \n "}, "description", "Enter what was done"),
    ({"description": "x" * 501}, "description", "500 characters or fewer"),
    ({"stage": "Celebrate"}, "stage", "Choose a stage from the list"),
    ({"taken_on": utcnow().date() + timedelta(days=1)}, "taken_on", "today or in the past"),
])
def test_bad_actions_are_refused_naming_the_field(session, neighbourhood, team, change, field,
                                                  message):
    with pytest.raises(ActionError, match=message) as raised:
        add(session, neighbourhood, team, **change)
    assert raised.value.field == field
    assert session.exec(select(TeamAction)).all() == []


def test_actions_list_oldest_first_and_the_latest_is_the_newest(session, neighbourhood, team):
    today = utcnow().date()
    second = add(session, neighbourhood, team, taken_on=today - timedelta(days=3))
    first = add(session, neighbourhood, team, taken_on=today - timedelta(days=30))
    same_day = add(session, neighbourhood, team, taken_on=today - timedelta(days=3))
    assert [a.id for a in actions.list_actions(session, team_id=team.id)] == [
        first.id, second.id, same_day.id]
    assert actions.latest_action(session, team_id=team.id).id == same_day.id


def closed_waves(app, session, team, count):
    """``count`` closed, summarised waves of ``team``, a fortnight each, 4 weeks apart."""
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    start = utcnow() - timedelta(weeks=4 * count + 1)
    ids = []
    for n in range(count):
        opened = waves.open_wave(session, team=team, instrument=instrument,
                                 now=start + timedelta(weeks=4 * n), days=14,
                                 respect_gap=False)
        waves.close_wave(session, wave=opened.wave,
                         now=start + timedelta(weeks=4 * n, days=14))
        ids.append(opened.wave.id)
    session.commit()
    return [session.get(Wave, wave_id) for wave_id in ids]


def local_day(moment):
    return moment.astimezone(LONDON).date()


def test_actions_are_drawn_at_the_wave_whose_dates_contain_or_follow_them(
        app, session, neighbourhood, team):
    first, second, third = closed_waves(app, session, team, 3)
    inside = add(session, neighbourhood, team, taken_on=local_day(second.opens_at)
                 + timedelta(days=2), description="During the second")
    between = add(session, neighbourhood, team, taken_on=local_day(first.closes_at)
                  + timedelta(days=3), description="Between first and second")
    after = add(session, neighbourhood, team, taken_on=local_day(third.closes_at)
                + timedelta(days=1), description="After the last")
    before = add(session, neighbourhood, team, taken_on=date(2000, 1, 1),
                 description="Long before")
    session.commit()
    report = team_report.team_report(
        session, team=team, instrument=app.extensions["pulse_instruments"]["team-pulse"],
        threshold=5, free_text_threshold=10, now=utcnow())
    placed = {p.action.id: (p.marker, p.at_index) for p in report.actions}
    assert placed == {before.id: ("A1", 0), between.id: ("A2", 1), inside.id: ("A3", 1),
                      after.id: ("A4", None)}


def test_a_rebase_needs_a_reason_a_closed_wave_of_the_team_and_is_not_repeated(
        app, session, team, make_team):
    wave, _ = closed_waves(app, session, team, 2)
    other = make_team(slug="other", size=6)
    [other_wave] = closed_waves(app, session, other, 1)
    with pytest.raises(ActionError, match="Say why") as raised:
        actions.add_rebase(session, team_id=team.id, wave_id=wave.id, reason="  ",
                           user_id=None, now=utcnow())
    assert raised.value.field == "reason"
    with pytest.raises(ActionError, match="closed wave of this team"):
        actions.add_rebase(session, team_id=team.id, wave_id=other_wave.id, reason="Shift",
                           user_id=None, now=utcnow())
    actions.add_rebase(session, team_id=team.id, wave_id=wave.id, reason="Shift",
                       user_id=None, now=utcnow())
    with pytest.raises(ActionError, match="already start afresh"):
        actions.add_rebase(session, team_id=team.id, wave_id=wave.id, reason="Again",
                           user_id=None, now=utcnow())
    assert [r.wave_id for r in actions.list_rebases(session, team_id=team.id)] == [wave.id]


def test_the_service_refuses_a_rebase_where_no_chart_shows_a_sustained_shift(
        app, session, team):
    # Waves nobody answered are hidden: no chart, so no special cause anywhere.
    wave, _ = closed_waves(app, session, team, 2)
    with pytest.raises(ActionError, match="no sustained shift") as raised:
        team_report.add_rebase_at_special_cause(
            session, team=team, instrument=app.extensions["pulse_instruments"]["team-pulse"],
            threshold=5, wave_id=wave.id, reason="Shift", user_id=None, now=utcnow())
    assert raised.value.field == "wave_id"
    assert session.exec(select(TeamRebase)).all() == []


def test_today_is_englands_today_for_an_action(session, make_team):
    """At 00:30 in British Summer Time it is already tomorrow in England, not in UTC."""
    from datetime import UTC, date, datetime

    from survey_app.models import Neighbourhood
    from survey_app.reporting.actions import add_action

    team = make_team()
    neighbourhood = session.get(Neighbourhood, team.neighbourhood_id)
    just_after_midnight = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London
    action = add_action(session, neighbourhood=neighbourhood, team_id=team.id,
                        taken_on=date(2026, 7, 2), description="Huddle moved", stage="Do",
                        user_id=None, now=just_after_midnight)
    assert action.taken_on == date(2026, 7, 2)
