"""The ICB view: every INT on the same measures, pooled with analysis/, admins only."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlmodel import col, select

from analysis.engagement import engagement_from_totals
from analysis.proportions import wilson_interval
from survey_app import demo
from survey_app.core.clock import utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import (
    AuditEvent,
    Team,
    User,
    Wave,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.pulse import waves
from survey_app.reporting import overview
from tests.figures import shows

ADMIN = "admin@riverside-int.example"


def int_row(page: str, slug: str) -> str:
    found = re.search(rf'<tr id="int-{slug}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row for {slug}"
    return html.unescape(found.group(1))


def latest_waves(session, neighbourhood):
    """Each team's latest closed wave with its summary and item rows."""
    found = []
    for team in session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id)):
        wave, summary = session.exec(
            select(Wave, WaveSummary).join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
            .where(Wave.team_id == team.id, col(Wave.closed_at).is_not(None))
            .order_by(col(Wave.opens_at).desc())).first()
        items = {row.item_id: row for row in session.exec(
            select(WaveItemSummary).where(WaveItemSummary.wave_id == wave.id))}
        found.append((summary, items))
    return found


def test_the_admin_sees_each_int_pooled_with_analysis(app, session, client, login, riverside):
    login(client, ADMIN, DEMO_PASSWORD)
    response = client.get("/reports/icb")
    assert response.status_code == 200
    row = int_row(response.get_data(as_text=True), demo.INT_SLUG)
    latest = latest_waves(session, riverside)
    assert len(latest) == 4
    # Pooled over the teams' latest closed waves: the Wilson interval of the summed counts.
    for item_id in ("recommend_work", "recommend_care"):
        interval = wilson_interval(sum(items[item_id].positive for _, items in latest),
                                   sum(items[item_id].answered for _, items in latest))
        assert f"{100 * interval.estimate:.0f}%" in row
        assert (f"95% interval {100 * interval.lower:.0f}% to {100 * interval.upper:.0f}%"
                in row)
    responded = sum(summary.responded for summary, _ in latest)
    invited = sum(summary.invited for summary, _ in latest)
    assert shows(row, 100 * responded / invited, ".0f", "{}%")
    assert f"{responded} of {invited}" in row
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    engaged = [i for i in instrument.items if i.group in ("motivation", "involvement",
                                                          "advocacy")]
    score = engagement_from_totals(
        [sum(items[i.id].score_sum for _, items in latest if i.id in items) for i in engaged],
        [sum(items[i.id].scored for _, items in latest if i.id in items) for i in engaged],
        [i.group for i in engaged]).score
    assert f">{score:.1f}<" in row.replace(" ", "")
    # The team counts are those of the INT's own overview (its per-team analysis).
    teams = overview.int_overview(session, neighbourhood=riverside, instrument=instrument,
                                 threshold=5)
    cells = [re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[-4:] == [
        str(sum(t.fatigue.level == "fatigued" for t in teams)),
        str(sum(t.fatigue.level == "watch" for t in teams)),
        str(sum(t.variation == "special_cause_improvement" for t in teams)),
        str(sum(t.variation == "special_cause_concern" for t in teams)),
    ]
    assert cells[-2] == "1"  # district nursing's real rise
    admin = session.exec(select(User).where(User.email == ADMIN)).one()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "report.view")).one()
    assert (event.user_id, event.target, event.detail) == (admin.id, "icb", None)


def test_a_small_int_is_hidden_and_left_out_of_every_total(
        session, client, login, riverside, open_wave, hidden_fields):
    small = open_wave(size=6, slug="small-team")
    for url in small.urls[:3]:
        page = client.get(url)
        client.post(url, data={**hidden_fields(page.data), "recommend_work": "likely"})
    waves.close_wave(session, wave=session.get(Wave, small.wave_id), now=utcnow())
    session.commit()
    login(client, ADMIN, DEMO_PASSWORD)
    page = client.get("/reports/icb").get_data(as_text=True)
    tiny = int_row(page, "test-int")
    assert "too few answers" in tiny and "%" not in tiny
    # The small INT's answers are in no total, so nothing else need be hidden for it.
    big = int_row(page, demo.INT_SLUG)
    assert "hidden" not in big and "%" in big

    response = client.get("/reports/icb.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = {row["INT"]: row for row in csv.DictReader(io.StringIO(
        response.get_data(as_text=True)))}
    assert rows["test-int INT"]["Teams"] == "1"
    assert rows["test-int INT"]["Answers"] == ""
    assert rows["test-int INT"]["Hidden because"] == "too few answers"
    river = rows[demo.INT_NAME]
    assert river["% recommend as a place to work"] != ""
    assert river["Hidden because"] == ""
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "report.csv")).one()
    assert event.target == "icb" and "likely" not in (event.detail or "")


def test_the_csv_matches_the_page(session, client, login, riverside):
    login(client, ADMIN, DEMO_PASSWORD)
    rows = list(csv.DictReader(io.StringIO(
        client.get("/reports/icb.csv").get_data(as_text=True))))
    [row] = rows
    latest = latest_waves(session, riverside)
    interval = wilson_interval(sum(items["recommend_work"].positive for _, items in latest),
                               sum(items["recommend_work"].answered for _, items in latest))
    assert float(row["% recommend as a place to work"]) == round(100 * interval.estimate, 1)
    assert float(row["Place to work 95% CI lower %"]) == round(100 * interval.lower, 1)
    assert int(row["Answers"]) == sum(summary.responded for summary, _ in latest)
    assert row["Teams"] == "4" and row["Teams shown"] == "4"


@pytest.mark.parametrize("path", ["/reports/icb", "/reports/icb.csv"])
def test_only_admins_see_the_icb_view(app, login, riverside, path):
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    for email in ("lead@riverside-int.example", "recorder@riverside-int.example"):
        client = app.test_client()
        login(client, email, DEMO_PASSWORD)
        assert client.get(path).status_code == 403, email
