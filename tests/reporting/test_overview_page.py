"""The INT overview page and its CSV: analysis/'s numbers, suppression, access and audit.

Expected figures are computed here straight from the aggregate tables with
analysis/, not through the service the page uses, so a slip in either shows.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re

import pytest
from sqlmodel import col, func, select

from analysis.engagement import engagement_from_totals
from analysis.fatigue import assess_fatigue
from analysis.proportions import wilson_interval
from analysis.spc import xmr
from survey_app import demo
from survey_app.core.clock import utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import (
    AuditEvent,
    Invitation,
    Neighbourhood,
    Team,
    User,
    Wave,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.pulse import waves
from tests.figures import shows

LEAD = "lead@riverside-int.example"


def closed_waves(session, team):
    return session.exec(select(Wave, WaveSummary)
                        .join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
                        .where(Wave.team_id == team.id, col(Wave.closed_at).is_not(None))
                        .order_by(col(Wave.opens_at))).all()


def item_rows(session, wave_id):
    return {row.item_id: row for row in session.exec(
        select(WaveItemSummary).where(WaveItemSummary.wave_id == wave_id))}


def team_row(page: str, slug: str) -> str:
    found = re.search(rf'<tr id="team-{slug}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row for {slug}"
    return html.unescape(found.group(1))


def words(interval):
    return (f"{100 * interval.estimate:.0f}%",
            f"95% interval {100 * interval.lower:.0f}% to {100 * interval.upper:.0f}%")


def test_the_lead_sees_each_team_with_analysis_figures(app, session, client, login, riverside):
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    login(client, LEAD, DEMO_PASSWORD)
    response = client.get(f"/reports/{riverside.slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    teams = session.exec(select(Team).where(Team.neighbourhood_id == riverside.id)).all()
    assert len(teams) == 4
    levels = {}
    for team in teams:
        row = team_row(page, team.slug)
        history = closed_waves(session, team)
        latest_wave, latest = history[-1]
        items = item_rows(session, latest_wave.id)
        # (The words, not the markup: a class name may say "visually-hidden".)
        assert latest.responded >= 5 and "hidden" not in re.sub(r"<[^>]+>", "", row).lower()
        for item_id in ("recommend_work", "recommend_care"):
            estimate, interval = words(wilson_interval(items[item_id].positive,
                                                       items[item_id].answered))
            assert estimate in row and interval in row
        engaged = [item for item in instrument.items
                   if item.group in ("motivation", "involvement", "advocacy")]
        score = engagement_from_totals(
            [items[i.id].score_sum if i.id in items else 0.0 for i in engaged],
            [items[i.id].scored if i.id in items else 0 for i in engaged],
            [i.group for i in engaged]).score
        assert f">{score:.1f}<" in team_row(page, team.slug).replace(" ", "")
        rate = latest.responded / latest.invited
        assert shows(row, 100 * rate, ".0f", "{}%")
        assert f"{latest.responded} of {latest.invited} invited" in row
        # Fatigue from every closed wave's counts, with its reasons written out.
        shown = [sum(r.shown for r in item_rows(session, w.id).values()) for w, _ in history]
        answered = [sum(r.answered for r in item_rows(session, w.id).values())
                    for w, _ in history]
        fatigue = assess_fatigue(
            [s.responded for _, s in history], [s.invited for _, s in history],
            items_blank=[a - b for a, b in zip(shown, answered, strict=True)],
            items_presented=shown,
            median_completion_seconds=[s.median_completion_seconds or math.nan
                                       for _, s in history])
        levels[team.slug] = fatigue.level
        assert {"none": "No sign of fatigue", "watch": "Watch",
                 "fatigued": "Fatigued"}[fatigue.level] in row
        # Each reason in plain words; its trend test's p-value only in the row's statistics.
        for reason in fatigue.reasons:
            plain = re.sub(r" \(trend p [<=] [0-9.]+\)", "", reason)
            assert plain in row
            statistic = re.search(r"\(trend (p [<=] [0-9.]+)\)", reason)
            if statistic:
                details = row[row.index("<details"):]
                assert f"trend test {statistic.group(1)}" in details
    # Falling response rates are flagged as fatigue...
    assert sum(level == "fatigued" for level in levels.values()) >= 3
    assert "Response rate fell from" in page
    # ...without a false "worse" verdict anywhere.
    assert "credible fall" not in page.lower()
    assert "No credible change since" in page


def test_the_improving_team_shows_an_unusual_rise(app, session, client, login, riverside):
    team = session.exec(select(Team).where(Team.slug == demo.IMPROVING_TEAM)).one()
    values = []
    for wave, _ in closed_waves(session, team):
        work = item_rows(session, wave.id)["recommend_work"]
        values.append(100 * work.positive / work.answered)
    assert xmr(values, improvement="increase").variation[-1] == "special_cause_improvement"
    login(client, LEAD, DEMO_PASSWORD)
    page = client.get(f"/reports/{demo.INT_SLUG}").get_data(as_text=True)
    row = team_row(page, team.slug)
    # In plain words, not only in the icon's colour; the Making Data Count term is in
    # the row's statistics.
    assert "Unusual rise, better" in row
    assert 'aria-label="Unusual rise, better' in row
    assert "Making Data Count: Special cause improving variation." in row
    others = [team_row(page, slug) for slug in ("gp-practice", "social-care", "mental-health")]
    assert not any("Unusual rise, better" in other for other in others)
    assert all("No unusual change" in other for other in others)


def test_an_open_wave_shows_only_its_response_so_far(session, client, login, riverside):
    team = session.exec(select(Team).where(Team.slug == demo.IMPROVING_TEAM)).one()
    wave = session.exec(select(Wave).where(Wave.team_id == team.id,
                                           col(Wave.closed_at).is_(None))).one()
    invited = session.exec(select(func.count()).select_from(Invitation)
                           .where(Invitation.wave_id == wave.id)).one()
    used = session.exec(select(func.count()).select_from(Invitation)
                        .where(Invitation.wave_id == wave.id, col(Invitation.used))).one()
    assert used > 0
    login(client, LEAD, DEMO_PASSWORD)
    page = client.get(f"/reports/{demo.INT_SLUG}").get_data(as_text=True)
    row = team_row(page, team.slug)
    assert f"{used} of {invited} answered so far" in row
    # The figures are the latest closed wave's: the open wave's answers are in none of them.
    latest_wave, latest = closed_waves(session, team)[-1]
    work = item_rows(session, latest_wave.id)["recommend_work"]
    assert words(wilson_interval(work.positive, work.answered))[1] in row
    assert f"{latest.responded} of {latest.invited} invited" in row


def test_the_csv_has_the_page_figures_and_is_audited(session, client, login, riverside):
    login(client, LEAD, DEMO_PASSWORD)
    response = client.get(f"/reports/{demo.INT_SLUG}/overview.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["Team"] for row in rows} == {
        "District nursing", "Riverside Medical Practice", "Adult social care",
        "Community mental health"}
    assert list(rows[0])[-1] == "Hidden because"
    nursing = next(row for row in rows if row["Team"] == "District nursing")
    team = session.exec(select(Team).where(Team.slug == demo.IMPROVING_TEAM)).one()
    latest_wave, latest = closed_waves(session, team)[-1]
    work = item_rows(session, latest_wave.id)["recommend_work"]
    interval = wilson_interval(work.positive, work.answered)
    assert float(nursing["% recommend as a place to work"]) == round(100 * interval.estimate, 1)
    assert float(nursing["Place to work 95% CI lower %"]) == round(100 * interval.lower, 1)
    assert float(nursing["Place to work 95% CI upper %"]) == round(100 * interval.upper, 1)
    assert int(nursing["Answers"]) == latest.responded
    assert nursing["Hidden because"] == ""
    assert "answered so far" in nursing["Open pulse"]
    lead = session.exec(select(User).where(User.email == LEAD)).one()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "report.csv")).one()
    assert event.user_id == lead.id and event.target == "overview:riverside"
    assert "likely" not in (event.detail or "")


def test_viewing_is_audited_without_answers(session, client, login, riverside):
    login(client, LEAD, DEMO_PASSWORD)
    client.get(f"/reports/{demo.INT_SLUG}")
    client.get("/reports/")
    lead = session.exec(select(User).where(User.email == LEAD)).one()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "report.view")
                          .order_by(col(AuditEvent.id))).all()
    assert [(e.user_id, e.target) for e in events] == [(lead.id, "overview:riverside"),
                                                       (lead.id, "index")]
    assert all(e.detail is None for e in events)


def _answer(client, hidden_fields, urls):
    for url in urls:
        page = client.get(url)
        client.post(url, data={**hidden_fields(page.data), "recommend_work": "likely"})


def test_small_teams_are_hidden_and_say_why(app, session, client, login, open_wave,
                                            hidden_fields, make_user):
    small = open_wave(size=6, slug="small-team")
    _answer(client, hidden_fields, small.urls[:3])
    larger = open_wave(size=6, slug="larger-team")
    _answer(client, hidden_fields, larger.urls)
    for opened in (small, larger):
        waves.close_wave(session, wave=session.get(Wave, opened.wave_id), now=utcnow())
    session.commit()
    still_open = open_wave(size=6, slug="new-team")
    _answer(client, hidden_fields, still_open.urls[:2])
    make_user("lead", email="lead@example.test", ints=("test-int",))
    login(client, "lead@example.test")

    page = client.get("/reports/test-int").get_data(as_text=True)
    small_row = team_row(page, "small-team")
    assert "too few answers" in small_row and "%" not in small_row
    # 3 answers could be worked out from the INT's total minus the larger team's 6,
    # so the larger team is hidden too.
    larger_row = team_row(page, "larger-team")
    assert "hidden to protect another group" in larger_row and "%" not in larger_row
    new_row = team_row(page, "new-team")
    assert "No closed pulse yet" in new_row
    assert "2 of 6 answered so far" in new_row and "%" not in new_row

    rows = {row["Team"]: row for row in csv.DictReader(io.StringIO(
        client.get("/reports/test-int/overview.csv").get_data(as_text=True)))}
    assert rows["Small Team"]["Answers"] == ""
    assert rows["Small Team"]["Hidden because"] == "too few answers"
    assert rows["Small Team"]["% recommend as a place to work"] == ""
    assert rows["Larger Team"]["% recommend as a place to work"] == ""
    assert rows["Larger Team"]["Hidden because"] == "hidden to protect another group"
    assert rows["New Team"]["Hidden because"] == "no closed pulse yet"
    assert rows["New Team"]["Open pulse"].endswith("2 of 6 answered so far")


@pytest.mark.parametrize("path", ["/reports/riverside", "/reports/riverside/overview.csv"])
def test_only_the_int_s_leads_and_admins_may_look(app, session, login, make_user, riverside,
                                                 path):
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    session.add(Neighbourhood(slug="other-int", name="Other INT"))
    session.commit()
    make_user("lead", email="other@example.test", ints=("other-int",))
    for email, password, status in (
        ("other@example.test", None, 403),
        # Even the INT's own recorder sees no reports.
        ("recorder@riverside-int.example", DEMO_PASSWORD, 403),
        (LEAD, DEMO_PASSWORD, 200),
        ("admin@riverside-int.example", DEMO_PASSWORD, 200),
    ):
        client = app.test_client()
        login(client, email, *([password] if password else []))
        assert client.get(path).status_code == status, email
    assert client.get("/reports/no-such-int").status_code == 404


def test_the_list_of_ints(app, session, login, riverside):
    assert app.test_client().get("/reports/").headers["Location"].startswith("/login")
    session.add(Neighbourhood(slug="other-int", name="Other INT"))
    session.commit()
    recorder, lead, admin = app.test_client(), app.test_client(), app.test_client()
    login(recorder, "recorder@riverside-int.example", DEMO_PASSWORD)
    assert recorder.get("/reports/").status_code == 403
    login(lead, LEAD, DEMO_PASSWORD)
    page = lead.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/riverside"' in page and "Other INT" not in page
    assert 'href="/reports/icb"' not in page
    login(admin, "admin@riverside-int.example", DEMO_PASSWORD)
    page = admin.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/riverside"' in page and 'href="/reports/other-int"' in page
    assert 'href="/reports/icb"' in page


def test_reports_are_never_cached(client, login, riverside):
    login(client, LEAD, DEMO_PASSWORD)
    page = client.get(f"/reports/{demo.INT_SLUG}")
    download = client.get(f"/reports/{demo.INT_SLUG}/overview.csv")
    assert page.headers["Cache-Control"] == download.headers["Cache-Control"] == "no-store"
