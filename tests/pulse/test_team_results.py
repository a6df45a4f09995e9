"""Staff see their team's results (no login): closed waves only, suppressed as everywhere."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from analysis.engagement import engagement_from_totals
from analysis.proportions import wilson_interval
from survey_app.core.clock import LONDON, as_utc, local_date, utcnow
from survey_app.models import (
    Invitation,
    ItemAnswer,
    Team,
    Wave,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.pulse import waves
from survey_app.reporting import actions, overview
from survey_app.reporting.staff_results import trend_sentence
from tests.figures import shows

ENGAGEMENT_GROUPS = ("motivation", "involvement", "advocacy")


def _text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.data.decode())
    return " ".join(html.unescape(body).split())


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _day(day) -> str:
    return f"{day.day} {day:%B %Y}"


def _team(session, neighbourhood, slug):
    return session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id,
                                           Team.slug == slug)).one()


def _latest_closed(session, team):
    wave, summary = session.exec(
        select(Wave, WaveSummary).join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
        .where(Wave.team_id == team.id, col(Wave.closed_at).is_not(None))
        .order_by(col(Wave.opens_at).desc())).first()
    items = {row.item_id: row for row in session.exec(
        select(WaveItemSummary).where(WaveItemSummary.wave_id == wave.id))}
    return wave, summary, items


def _answer(client, url, hidden_fields, **answers):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={**hidden_fields(page.data), **answers})


@pytest.mark.parametrize("slug", ["district-nursing", "gp-practice", "mental-health"])
def test_the_headline_is_analysis_on_the_latest_closed_wave(app, session, client, riverside,
                                                            slug):
    team = _team(session, riverside, slug)
    wave, summary, items = _latest_closed(session, team)
    assert summary.responded >= 5  # the demo's teams are all shown

    page = client.get(f"/results/{riverside.slug}/{slug}")  # no one is signed in
    assert page.status_code == 200
    text = _text(page)

    month = f"{as_utc(wave.opens_at).astimezone(LONDON):%B %Y}"
    assert f"Results of the {month} pulse" in text
    rate = summary.responded / summary.invited
    assert shows(text, rate, ".0%",
                 f"{summary.responded} of {summary.invited} people answered ({{}})")
    for item_id in ("recommend_work", "recommend_care"):
        interval = wilson_interval(items[item_id].positive, items[item_id].answered)
        assert (f"{_pct(interval.estimate)} Said likely or extremely likely, of "
                f"{items[item_id].answered} who answered. The true figure is probably "
                f"between {_pct(interval.lower)} and {_pct(interval.upper)}.") in text
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    scored = [item for item in instrument.items if item.group in ENGAGEMENT_GROUPS]
    engagement = engagement_from_totals(
        [items[i.id].score_sum if i.id in items else 0.0 for i in scored],
        [items[i.id].scored if i.id in items else 0 for i in scored],
        [str(i.group) for i in scored]).score
    assert f"Engagement {engagement:.1f} out of 10" in text

    # The trend is the change verdict the leads' overview reaches, in staff's words.
    [row] = [r for r in overview.int_overview(session, neighbourhood=riverside,
                                             instrument=instrument, threshold=5)
             if r.team.slug == slug]
    sentence = trend_sentence(row.change)
    assert sentence is not None and sentence in text

    # Aggregates only: none of the team's comments appear.
    comments = session.exec(select(ItemAnswer.text).where(col(ItemAnswer.text).is_not(None))
                            .limit(50)).all()
    assert comments and not any(comment in text for comment in comments)


def test_the_open_wave_shows_only_how_many_have_answered(session, client, riverside):
    team = _team(session, riverside, "district-nursing")
    [open_wave] = session.exec(select(Wave).where(Wave.team_id == team.id,
                                                  col(Wave.closed_at).is_(None))).all()
    invitations = session.exec(select(Invitation)
                               .where(Invitation.wave_id == open_wave.id)).all()
    used = sum(invitation.used for invitation in invitations)
    assert 0 < used < len(invitations)

    text = _text(client.get(f"/results/{riverside.slug}/district-nursing"))
    assert (f"A pulse is open until {_day(local_date(open_wave.closes_at))}. So far {used} of "
            f"{len(invitations)} people have answered ({_pct(used / len(invitations))}). "
            "Its results will be shown here after it closes.") in text
    closed, _summary, _items = _latest_closed(session, team)
    assert f"Results of the {as_utc(closed.opens_at).astimezone(LONDON):%B %Y} pulse" in text


def test_a_wave_shows_figures_only_once_it_has_closed(app, session, client, open_wave,
                                                      hidden_fields):
    wave = open_wave(size=6)
    for url in wave.urls:
        assert _answer(client, url, hidden_fields, recommend_work="extremely_likely",
                       recommend_care="likely").status_code == 303

    url = "/results/test-int/district-nursing"
    text = _text(client.get(url))
    assert "So far 6 of 6 people have answered (100%)" in text
    assert "first results will appear here after its first pulse closes" in text
    assert "Would recommend" not in text and "Engagement" not in text

    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    text = _text(client.get(url))
    assert "A pulse is open" not in text
    assert "6 of 6 people answered (100%)" in text
    everyone = wilson_interval(6, 6)
    assert (f"Would recommend the team as a place to work 100% Said likely or extremely "
            f"likely, of 6 who answered. The true figure is probably between "
            f"{_pct(everyone.lower)} and 100%.") in text


def test_a_latest_wave_below_the_threshold_shows_no_figures_and_why(session, client,
                                                                    open_wave, hidden_fields):
    wave = open_wave(size=6)
    for url in wave.urls[:3]:
        _answer(client, url, hidden_fields, recommend_work="likely", recommend_care="likely")
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()

    page = client.get("/results/test-int/district-nursing")
    assert page.status_code == 200
    text = _text(page)
    assert ("Fewer than 5 people answered, so these results are not shown: with so few "
            "answers, someone's answers could be picked out.") in text
    assert "%" not in text and "3 of 6" not in text
    assert "Would recommend" not in text and "Engagement" not in text


def test_a_team_hidden_to_protect_another_shows_why(session, client, open_wave,
                                                    hidden_fields):
    small = open_wave(size=6, slug="small-team")
    shown = open_wave(size=6, slug="larger-team")
    for url in small.urls[:3] + shown.urls:
        _answer(client, url, hidden_fields, recommend_work="likely")
    for wave_id in (small.wave_id, shown.wave_id):
        waves.close_wave(session, wave=session.get(Wave, wave_id), now=utcnow())
    session.commit()

    text = _text(client.get("/results/test-int/larger-team"))
    assert ("These results are not shown, so that a smaller team's results cannot be worked "
            "out from the teams that are shown.") in text
    assert "%" not in text and "6 of 6" not in text


def test_the_latest_action_is_shown(session, client, riverside):
    url = f"/results/{riverside.slug}/social-care"
    assert "Nothing has been recorded for your team yet" in _text(client.get(url))

    team = _team(session, riverside, "social-care")
    today = utcnow()
    actions.add_action(session, neighbourhood=riverside, team_id=team.id,
                       taken_on=(today - timedelta(days=40)).date(), stage="Plan",
                       description="Asked the team what gets in the way.", user_id=None,
                       now=today)
    actions.add_action(session, neighbourhood=riverside, team_id=team.id,
                       taken_on=(today - timedelta(days=2)).date(), stage="Do",
                       description="Moved the  weekly meeting to <Tuesdays>.", user_id=None,
                       now=today)
    session.commit()
    page = client.get(url)
    text = _text(page)
    # Staff read what is happening, not the improvement cycle's name for it.
    assert f"Under way {_day((today - timedelta(days=2)).date())}" in text
    assert ">Do<" not in page.data.decode()
    assert "Moved the weekly meeting to <Tuesdays>." in text
    assert b"&lt;Tuesdays&gt;" in page.data  # escaped, not markup
    assert "Asked the team what gets in the way." not in text  # only the latest


def test_the_thank_you_page_shows_the_headline_and_action(session, client, riverside):
    team = _team(session, riverside, "district-nursing")
    _wave, _summary, items = _latest_closed(session, team)
    work = wilson_interval(items["recommend_work"].positive, items["recommend_work"].answered)
    latest = actions.latest_action(session, team_id=team.id)

    page = client.get(f"/thank-you/{riverside.slug}/district-nursing")
    assert page.status_code == 200
    text = _text(page)
    assert "Thank you" in text
    assert (f"Would recommend the team as a place to work {_pct(work.estimate)} "
            f"Said likely or extremely likely") in text
    # The demo's latest action for the team is at the PDSA "Study" stage, in staff's words.
    assert latest.stage == "Study"
    assert (f"Checking whether it worked {_day(latest.taken_on)} {latest.description}"
            in text)
    assert "Study" not in text
    assert f'href="/results/{riverside.slug}/district-nursing"' in page.data.decode()
    # Of the open wave, the thank-you page says nothing at all.
    assert "So far" not in text


def test_the_thank_you_page_after_answering_a_first_pulse(client, open_wave, hidden_fields):
    wave = open_wave(size=6)
    answered = _answer(client, wave.urls[0], hidden_fields, recommend_work="likely")
    text = _text(client.get(answered.headers["Location"]))
    assert "first results will appear here after its first pulse closes" in text
    assert "Nothing has been recorded for your team yet" in text


@pytest.mark.parametrize("path", ["/results/riverside/no-such-team",
                                  "/results/no-such-int/district-nursing",
                                  "/results/test-int/district-nursing"])
def test_unknown_teams_are_404(client, riverside, path):
    # test-int does not exist here: a team slug is only found within its own INT.
    page = client.get(path)
    assert page.status_code == 404
    assert "Page not found" in _text(page)


def test_an_unknown_team_still_gets_its_thank_you(client, riverside):
    page = client.get("/thank-you/no-such-int/no-such-team")
    assert page.status_code == 200
    assert "Thank you" in _text(page) and "You said, we did" not in _text(page)


def test_a_new_team_without_pulses_changes_nothing_for_the_others(session, client, open_wave,
                                                                   make_team, hidden_fields):
    wave = open_wave(size=6)
    for url in wave.urls:
        _answer(client, url, hidden_fields, recommend_work="likely")
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    make_team(slug="brand-new")

    shown = _text(client.get("/results/test-int/district-nursing"))
    assert "6 of 6 people answered (100%)" in shown
    new = client.get("/results/test-int/brand-new")
    assert new.status_code == 200
    assert "first results will appear here after its first pulse closes" in _text(new)


@pytest.mark.parametrize("app_config", [{"PULSE_RESULTS_LIMIT": "3 per minute"}])
def test_results_pages_are_throttled_per_client(client, make_team, app_config):
    make_team()
    codes = [client.get(url).status_code for url in ("/results/test-int/district-nursing",
                                                     "/thank-you/test-int/district-nursing",
                                                     "/results/test-int/district-nursing",
                                                     "/results/test-int/district-nursing")]
    assert codes == [200, 200, 200, 429]
