"""The API against the demo: every response as documented, the pages' figures, its guards.

Every response checked here (successes and refusals alike) is validated
against the OpenAPI document's schema for its path and status.
"""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import event as sql_event
from sqlmodel import col, select

from analysis.proportions import wilson_interval
from survey_app import demo
from survey_app.accounts import api_tokens
from survey_app.core.clock import as_utc, utcnow
from survey_app.core.db import get_engine
from survey_app.demo import patients
from survey_app.models import ApiToken, AuditEvent, Team, User, Wave
from survey_app.pulse import waves
from survey_app.reporting import overview, team_report
from tests.api.conftest import PREFIX, bearer

OVERVIEW = "/ints/{int_slug}/overview"
WAVES = "/ints/{int_slug}/teams/{team_slug}/waves"
ACTIONS = "/ints/{int_slug}/teams/{team_slug}/actions"
INTS = "/ints"
ACTIVATION = "/ints/{int_slug}/activation"
TEAMS = ("district-nursing", "gp-practice", "social-care", "mental-health")


def _get(client, template: str, token: str | None = None, **values: str):
    url = PREFIX + template.format(**values)
    return client.get(url, headers=bearer(token) if token else {})


def _every_endpoint(int_slug: str = demo.INT_SLUG, team_slug: str = "district-nursing"):
    values = {"int_slug": int_slug, "team_slug": team_slug}
    return [(template, values) for template in (INTS, OVERVIEW, WAVES, ACTIONS, ACTIVATION)]


# --------------------------------------------------------------------------- success


def test_every_endpoint_answers_the_demo_lead_as_documented(client, world, issue_token,
                                                            conforms):
    token = issue_token(world.lead)
    for template, values in _every_endpoint():
        response = _get(client, template, token, **values)
        assert response.status_code == 200, (template, response.get_json())
        conforms(response, template)
        assert response.headers["Cache-Control"] == "no-store"
    for slug in TEAMS:
        for template in (WAVES, ACTIONS):
            response = _get(client, template, token, int_slug=demo.INT_SLUG, team_slug=slug)
            assert response.status_code == 200
            conforms(response, template)


def test_the_ints_are_those_the_token_s_user_may_see(client, world, issue_token, conforms,
                                                      make_team, make_user):
    make_team(slug="community-team", int_slug="other-int")
    other_lead = make_user("lead", email="lead-b@example.test", ints=("other-int",))
    listed = {}
    for user in (world.lead, other_lead, world.admin):
        response = _get(client, INTS, issue_token(user))
        conforms(response, INTS)
        listed[user.email] = [n["slug"] for n in response.get_json()["ints"]]
    assert listed == {world.lead.email: [demo.INT_SLUG], "lead-b@example.test": ["other-int"],
                      world.admin.email: [demo.INT_SLUG, "other-int"]}  # by name
    [riverside] = _get(client, INTS, issue_token(world.lead)).get_json()["ints"]
    assert sorted(team["slug"] for team in riverside["teams"]) == sorted(TEAMS)


def test_overview_figures_are_int_overview_s(app, client, session, world, issue_token,
                                             conforms):
    response = _get(client, OVERVIEW, issue_token(world.lead), int_slug=demo.INT_SLUG)
    conforms(response, OVERVIEW)
    body = response.get_json()
    rows = overview.int_overview(session, neighbourhood=world.neighbourhood,
                                instrument=app.extensions["pulse_instruments"]["team-pulse"],
                                threshold=app.config["PULSE_SUPPRESSION_THRESHOLD"],
                                now=utcnow())
    assert [entry["team"]["slug"] for entry in body["teams"]] == [r.team.slug for r in rows]
    codes = overview.wave_hidden_codes(
        session, threshold=app.config["PULSE_SUPPRESSION_THRESHOLD"],
        neighbourhood_id=world.neighbourhood.id)
    for entry, row in zip(body["teams"], rows, strict=True):
        assert row.hidden_reason is None and entry["hidden_reason"] is None
        assert entry["latest_wave"] == row.waves[-1].label
        for key, interval in (("recommend_work", row.recommend_work),
                              ("recommend_care", row.recommend_care)):
            assert entry[key] == {
                "percent": 100 * interval.estimate, "lower": 100 * interval.lower,
                "upper": 100 * interval.upper, "positive": interval.successes,
                "answered": interval.n, "confidence": 0.95, "hidden_reason": None}
            # ...and that interval is analysis/'s for the latest wave's counts.
            assert interval == wilson_interval(*row.waves[-1].positive(key))
        assert entry["engagement"] == {"score": row.engagement, "hidden_reason": None}
        assert entry["response_rate"]["percent"] == 100 * row.response_rate
        assert entry["response_rate"]["responded"] == row.waves[-1].responded
        # A hidden earlier wave's response rate is hidden in the trend too.
        assert [p["percent"] for p in entry["response_rate"]["trend"]] == [
            None if codes[w.wave_id] else 100 * w.response_rate for w in row.waves]
        assert entry["response_rate"]["direction"] == row.response_trend.direction
        assert entry["fatigue"] == {"level": row.fatigue.level,
                                    "reasons": list(row.fatigue.reasons)}
        assert entry["change"] == {"verdict": row.change.verdict,
                                   "sentence": row.change_sentence,
                                   "explanation": row.change.sentence}
        assert entry["variation"]["code"] == row.work_chart.variation[-1]
        assert entry["assurance"]["code"] == row.work_chart.assurance
        assert [w["responded"] for w in entry["open_waves"]] == [
            w.responded for w in row.open_waves]
    # The demo's story reaches the API too: fatigue flagged, never a false "worse",
    # and the demo's one open wave shows its response so far, and nothing more.
    assert sum(e["fatigue"]["level"] != "none" for e in body["teams"]) >= 3
    assert all(e["change"]["verdict"] != "worsened" for e in body["teams"])
    assert sum(len(e["open_waves"]) for e in body["teams"]) >= 1


def test_wave_figures_are_the_team_page_s(app, client, session, world, issue_token, conforms):
    token = issue_token(world.lead)
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    for slug in TEAMS:
        team = session.exec(select(Team).where(Team.slug == slug)).one()
        response = _get(client, WAVES, token, int_slug=demo.INT_SLUG, team_slug=slug)
        conforms(response, WAVES)
        body = response.get_json()
        report = team_report.team_report(session, team=team, instrument=instrument,
                                         threshold=5, free_text_threshold=10, now=utcnow())
        measures = {m.key: m for m in report.measures}
        assert [w["label"] for w in body["waves"]] == list(report.labels)
        assert len(body["waves"]) == demo.MONTHLY_WAVES
        for index, wave in enumerate(body["waves"]):
            point = report.waves[index]
            assert wave["hidden_reason"] == report.wave_hidden[index]
            # A hidden wave shows no counts or response rate, as on the page.
            counts = (None, None) if report.wave_hidden[index] else (point.invited,
                                                                     point.responded)
            assert (wave["invited"], wave["responded"]) == counts
            for key in ("recommend_work", "recommend_care"):
                shown = measures[key].values[index]
                if shown is None:
                    assert wave[key]["percent"] is None
                    assert wave[key]["hidden_reason"] == measures[key].hidden_reasons[index]
                else:
                    assert math.isclose(wave[key]["percent"], shown, rel_tol=1e-12)
                    interval = wilson_interval(*point.positive(key))
                    assert (wave[key]["lower"], wave[key]["upper"]) == (
                        100 * interval.lower, 100 * interval.upper)
            assert wave["engagement"]["score"] == measures["engagement"].values[index]
        pulse = report.open_pulse
        if pulse is None:
            assert body["open_wave"] is None
        else:  # the demo's open wave: its response rate, and nothing from its answers
            assert body["open_wave"] == {
                "closes_at": pulse.closes_at.isoformat().replace("+00:00", "Z"),
                "invited": pulse.invited, "responded": pulse.responded,
                "response_rate_percent": 100 * pulse.responded / pulse.invited}
    assert demo.open_wave_id(session, now=utcnow()) is not None  # the open case was covered


def test_the_waves_endpoint_reads_no_free_text(app, client, session, world, issue_token):
    # The API never returns comments, so it never reads what anyone wrote.
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    token = issue_token(world.lead)
    engine = get_engine(app)
    sql_event.listen(engine, "before_cursor_execute", record)
    try:
        response = _get(client, WAVES, token, int_slug=demo.INT_SLUG,
                        team_slug="district-nursing")
        assert response.status_code == 200
        api_statements = list(statements)
        team = session.exec(select(Team).where(Team.slug == "district-nursing")).one()
        team_report.team_report(session, team=team,
                                instrument=app.extensions["pulse_instruments"]["team-pulse"],
                                threshold=5, free_text_threshold=10, now=utcnow())
    finally:
        sql_event.remove(engine, "before_cursor_execute", record)
    assert not any("item_answer" in statement for statement in api_statements)
    # The page's report does read it: the check above would have seen it.
    assert any("item_answer" in statement for statement in statements[len(api_statements):])


def test_actions_are_the_team_s_action_log(client, session, world, issue_token, conforms):
    response = _get(client, ACTIONS, issue_token(world.lead), int_slug=demo.INT_SLUG,
                    team_slug="district-nursing")
    conforms(response, ACTIONS)
    body = response.get_json()
    assert [a["stage"] for a in body["actions"]] == ["Plan", "Do", "Study"]
    assert body["stages"] == ["Plan", "Do", "Study", "Act"]
    assert all(a["taken_on"] <= utcnow().date().isoformat() for a in body["actions"])


# --------------------------------------------------------------------------- suppression


def _closed_wave(app, session, client, hidden_fields, open_wave, *, slug: str, size: int,
                 answers: int) -> None:
    wave = open_wave(size=size, slug=slug)
    for url in wave.urls[:answers]:
        page = client.get(url)
        client.post(url, data={**hidden_fields(page.data), "recommend_work": "likely",
                               "recommend_care": "likely"})
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()


def test_suppressed_teams_and_waves_come_back_null_with_the_reason(
        app, session, client, hidden_fields, open_wave, make_user, issue_token, conforms):
    _closed_wave(app, session, client, hidden_fields, open_wave, slug="small-team", size=6,
                 answers=3)
    _closed_wave(app, session, client, hidden_fields, open_wave, slug="middle-team", size=8,
                 answers=6)
    lead = make_user("lead", email="lead-t@example.test", ints=("test-int",))
    token = issue_token(lead)
    response = _get(client, OVERVIEW, token, int_slug="test-int")
    conforms(response, OVERVIEW)
    entries = {e["team"]["slug"]: e for e in response.get_json()["teams"]}
    # 3 answers: too few. 6 answers would be enough, but shown beside the INT's
    # total it would give away the small team's 3, so it is hidden too.
    assert entries["small-team"]["hidden_reason"] == "too few answers"
    assert entries["middle-team"]["hidden_reason"] == "hidden to protect another group"
    for entry in entries.values():
        reason = entry["hidden_reason"]
        assert entry["recommend_work"] == {
            "percent": None, "lower": None, "upper": None, "positive": None,
            "answered": None, "confidence": None, "hidden_reason": reason}
        assert entry["engagement"] == {"score": None, "hidden_reason": reason}
        assert entry["response_rate"]["percent"] is None
        assert entry["fatigue"] is None and entry["change"] is None
    for slug, reason in (("small-team", "too few answers"),
                         ("middle-team", "hidden to protect another group")):
        response = _get(client, WAVES, token, int_slug="test-int", team_slug=slug)
        conforms(response, WAVES)
        [wave] = response.get_json()["waves"]
        assert wave["hidden_reason"] == reason
        assert wave["recommend_work"]["percent"] is None
        assert wave["recommend_care"]["hidden_reason"] == reason
        assert wave["engagement"] == {"score": None, "hidden_reason": reason}
        # Nor how many answered: beside the INT's figures a count could give a team away.
        assert (wave["invited"], wave["responded"], wave["response_rate_percent"]) == (
            None, None, None)


def test_an_open_wave_shows_only_its_response_rate(app, session, client, hidden_fields,
                                                   open_wave, make_user, issue_token,
                                                   conforms):
    wave = open_wave(size=12, slug="open-team")
    for url in wave.urls[:10]:
        page = client.get(url)
        client.post(url, data={**hidden_fields(page.data), "recommend_work": "likely"})
    token = issue_token(make_user("lead", email="lead-t@example.test", ints=("test-int",)))
    response = _get(client, WAVES, token, int_slug="test-int", team_slug="open-team")
    conforms(response, WAVES)
    body = response.get_json()
    assert body["waves"] == []
    assert body["open_wave"]["invited"] == 12 and body["open_wave"]["responded"] == 10
    assert body["open_wave"]["response_rate_percent"] == pytest.approx(100 * 10 / 12)


# --------------------------------------------------------------------------- refusals


def test_no_token_a_wrong_one_or_a_session_cookie_is_401(client, world, login, conforms):
    for headers in ({}, {"Authorization": "Bearer pulse_not-a-real-token"},
                    {"Authorization": "Basic bGVhZDpkZW1v"}, {"Authorization": "Bearer "}):
        for template, values in _every_endpoint():
            response = client.get(PREFIX + template.format(**values), headers=headers)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            conforms(response, template)
    # A signed-in browser session is not a token: a cookie never reads the API.
    assert login(client, world.lead.email, password=patients.DEMO_PASSWORD).status_code == 302
    response = _get(client, INTS)
    assert response.status_code == 401
    conforms(response, INTS)


def test_a_revoked_token_is_401(client, session, world, issue_token, conforms):
    token = issue_token(world.lead)
    assert _get(client, INTS, token).status_code == 200
    row = session.exec(select(ApiToken).where(
        ApiToken.token_hash == api_tokens.hash_secret(token))).one()
    api_tokens.revoke_token(session, user_id=world.lead.id, token_id=row.id, now=utcnow())
    session.commit()
    for template, values in _every_endpoint():
        response = _get(client, template, token, **values)
        assert response.status_code == 401
        conforms(response, template)


def test_a_disabled_user_s_token_is_401(client, session, world, issue_token, conforms):
    token = issue_token(world.lead)
    user = session.get(User, world.lead.id)
    user.active = False
    session.add(user)
    session.commit()
    response = _get(client, OVERVIEW, token, int_slug=demo.INT_SLUG)
    assert response.status_code == 401
    conforms(response, OVERVIEW)


def test_a_lead_of_another_int_is_403(client, world, issue_token, conforms, make_team,
                                      make_user):
    make_team(slug="community-team", int_slug="other-int")
    token = issue_token(make_user("lead", email="lead-b@example.test", ints=("other-int",)))
    for template, values in _every_endpoint()[1:]:
        response = _get(client, template, token, **values)
        assert response.status_code == 403, template
        conforms(response, template)
        assert b"District nursing" not in response.data


def test_a_recorder_s_token_reads_nothing(client, world, issue_token, conforms):
    token = issue_token(world.recorder)
    for template, values in _every_endpoint():
        response = _get(client, template, token, **values)
        assert response.status_code == 403, template
        conforms(response, template)


def test_unknown_ints_teams_and_routes_are_404_json(client, world, issue_token, conforms):
    token = issue_token(world.lead)
    for template, values in ((OVERVIEW, {"int_slug": "nowhere"}),
                             (WAVES, {"int_slug": "nowhere", "team_slug": "district-nursing"}),
                             (WAVES, {"int_slug": demo.INT_SLUG, "team_slug": "nobody"}),
                             (ACTIONS, {"int_slug": demo.INT_SLUG, "team_slug": "nobody"})):
        response = _get(client, template, token, **values)
        assert response.status_code == 404, (template, values)
        conforms(response, template)
    for path in ("/api/v1/nothing-here", "/api/v1", "/api/v1/ints/riverside/teams"):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 404, path
        conforms(response, None)
    response = client.post(f"{PREFIX}/ints", headers=bearer(token))
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    conforms(response, None)


# --------------------------------------------------------------------------- audit


def test_every_call_is_audited_without_answers_or_the_token(client, session, world,
                                                            issue_token):
    token = issue_token(world.lead)
    before = utcnow()
    paths = []
    for template, values in _every_endpoint():
        response = _get(client, template, token, **values)
        paths.append(response.request.path)
    refused = _get(client, OVERVIEW, token, int_slug="nowhere")
    paths.append(refused.request.path)
    _get(client, INTS)  # no token: nobody to attribute it to, so not audited as a read
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "api.read")
                          .order_by(col(AuditEvent.id))).all()
    assert [e.target for e in events] == paths
    token_row = session.exec(select(ApiToken).where(
        ApiToken.token_hash == api_tokens.hash_secret(token))).one()
    for event, status in zip(events, [200, 200, 200, 200, 200, 404], strict=True):
        assert event.user_id == world.lead.id
        assert json.loads(event.detail) == {"status": status, "token_id": token_row.id}
    assert token_row.last_used_at is not None and as_utc(token_row.last_used_at) >= before
    everything = " ".join(f"{e.target} {e.detail}" for e in session.exec(select(AuditEvent)))
    assert token not in everything
    assert not any(comment in everything for comment in demo.COMMENTS)
