"""A hidden wave shows the same thing on every output: its reason, and nothing else.

A wave is hidden for too few answers, or to protect another group (the INT's
complementary suppression, :func:`survey_app.reporting.overview.wave_hidden_codes`).
Either way the team page, its comments, its CSV downloads and the API show no
figure, no count, no response rate and no comment of it: only why it is hidden,
in the vocabulary's words.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html import unescape

import pytest
from sqlmodel import col, select

from analysis import suppression
from survey_app.accounts import api_tokens
from survey_app.core.clock import utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import ItemAnswer, Response, Team, User
from survey_app.reporting import team_report
from survey_app.reporting.overview import WavePoint, team_series, wave_hidden_codes
from survey_app.reporting.vocabulary import hidden_reason

# At 10 answers the demo INT hides waves for both reasons, and the nursing team's
# latest wave (11 answers: enough for comments) is hidden to protect another team.
THRESHOLD = 10
FREE_TEXT_THRESHOLD = 10
LEAD = "lead@riverside-int.example"
MARKER = "A comment only the hidden wave holds"
CODES = (suppression.PROTECT_ANOTHER_GROUP, suppression.TOO_FEW_ANSWERS)


@pytest.fixture
def app_config():
    return {"PULSE_SUPPRESSION_THRESHOLD": THRESHOLD,
            "PULSE_FREE_TEXT_THRESHOLD": FREE_TEXT_THRESHOLD}


@dataclass(frozen=True)
class HiddenWave:
    team: Team
    series: list[WavePoint]
    index: int
    code: str

    @property
    def point(self) -> WavePoint:
        return self.series[self.index]

    @property
    def label(self) -> str:
        return self.point.label

    @property
    def reason(self) -> str:
        words = hidden_reason(self.code)
        assert words is not None
        return words


def find_hidden(session, neighbourhood, code: str, *, latest: bool = False) -> HiddenWave:
    """A wave of the INT hidden for ``code`` (its team's latest, with ``latest``)."""
    codes = wave_hidden_codes(session, threshold=THRESHOLD, neighbourhood_id=neighbourhood.id)
    teams = session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id)
                         .order_by(col(Team.name))).all()
    for team in teams:
        series = team_series(session, team_id=team.id)
        positions = [len(series) - 1] if latest and series else range(len(series))
        for index in positions:
            point = series[index]
            # Enough answers that it would show comments, were it not hidden.
            if codes.get(point.wave_id) == code and (
                    code != suppression.PROTECT_ANOTHER_GROUP
                    or point.responded >= FREE_TEXT_THRESHOLD):
                return HiddenWave(team, series, index, code)
    pytest.fail(f"the demo INT has no wave hidden for {code} at threshold {THRESHOLD}")


@pytest.fixture
def lead(session, client, login, riverside):
    response = login(client, LEAD, DEMO_PASSWORD)
    assert response.status_code == 302
    return riverside


def page(client, neighbourhood, team: Team) -> str:
    response = client.get(f"/reports/{neighbourhood.slug}/teams/{team.slug}")
    assert response.status_code == 200
    return response.data.decode()


def table(html: str, table_id: str) -> list[list[str]]:
    match = re.search(rf'<table class="nhsuk-table" id="{table_id}">(.*?)</table>', html, re.S)
    assert match, f"no table {table_id}"
    body = match.group(1).split("<tbody", 1)[1]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def section(html: str, section_id: str) -> str:
    return html.split(f'<section id="{section_id}"', 1)[1].split("</section>", 1)[0]


def row_of(rows: list[list[str]], label: str) -> list[str]:
    [row] = [row for row in rows if row[0] == label]
    return row


def download(client, neighbourhood, team: Team, name: str) -> list[dict[str, str]]:
    response = client.get(f"/reports/{neighbourhood.slug}/teams/{team.slug}/{name}.csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode())))


def api_get(client, session, path: str):
    user = session.exec(select(User).where(User.email == LEAD)).one()
    _token, plaintext = api_tokens.create_token(session, user_id=user.id, name="hidden waves",
                                                now=utcnow())
    session.commit()
    response = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 200
    return response.get_json()


def plant_comment(session, wave: HiddenWave, instrument) -> None:
    """Give one of the hidden wave's responses a comment no other wave has."""
    [question, *_] = [item for item in instrument.items if item.kind == "text"]
    response_id = session.exec(select(Response.id)
                               .where(Response.wave_id == wave.point.wave_id)).first()
    answer = session.get(ItemAnswer, (response_id, question.id))
    if answer is None:
        answer = ItemAnswer(response_id=response_id, item_id=question.id)
    answer.text = MARKER
    session.add(answer)
    session.commit()


# --------------------------------------------------------------------------- the page


@pytest.mark.parametrize("code", CODES)
def test_the_team_page_shows_a_hidden_wave_s_reason_only(lead, client, session, code):
    wave = find_hidden(session, lead, code)
    html = page(client, lead, wave.team)
    hidden = f"Hidden: {wave.reason}"
    for key in ("recommend_work", "recommend_care", "engagement"):
        row = row_of(table(html, f"table-{key}"), wave.label)
        # No response rate, no value: the reason in the variation column.
        assert row[1:3] == ["–", "–"], key
        assert row[6] == hidden, key
    # The fatigue table: no invitations, answers or response rate, only the reason.
    assert row_of(table(html, "table-fatigue"), wave.label)[1:] == [hidden] * 5
    # The response-rate bars under each chart leave the wave out.
    assert f"{wave.label}: no response rate" in html
    assert f"{wave.label}: response rate" not in html


def test_a_wave_hidden_to_protect_another_group_shows_no_comments(lead, client, session, app):
    wave = find_hidden(session, lead, suppression.PROTECT_ANOTHER_GROUP, latest=True)
    assert wave.point.responded >= FREE_TEXT_THRESHOLD  # only the other rule hides it
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    plant_comment(session, wave, instrument)
    comments = section(page(client, lead, wave.team), "comments")
    assert MARKER not in comments
    assert wave.reason in comments
    report = team_report.team_report(session, team=wave.team, instrument=instrument,
                                     threshold=THRESHOLD, now=utcnow(),
                                     free_text_threshold=FREE_TEXT_THRESHOLD)
    assert report.comments.latest_hidden
    assert report.comments.latest_hidden_reason == wave.reason
    assert all(MARKER not in answers for _, answers in report.comments.questions)


def test_comments_never_come_from_an_earlier_hidden_wave(lead, session, app):
    # Comments fall back to the latest wave with enough answers for them; a wave the
    # rule hides is passed over, however many answered it.
    codes = wave_hidden_codes(session, threshold=THRESHOLD, neighbourhood_id=lead.id)
    found = [
        (team, series, index)
        for team in session.exec(select(Team).where(Team.neighbourhood_id == lead.id))
        for series in [team_series(session, team_id=team.id)]
        for index, point in enumerate(series[:-1])
        if codes[point.wave_id] == suppression.PROTECT_ANOTHER_GROUP
        and all(later.responded < point.responded for later in series[index + 1:])
    ]
    assert found, "no earlier wave hidden to protect another group has the most answers since"
    team, series, index = found[0]
    wave = HiddenWave(team, series, index, suppression.PROTECT_ANOTHER_GROUP)
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    plant_comment(session, wave, instrument)
    report = team_report.team_report(session, team=team, instrument=instrument,
                                     threshold=THRESHOLD, now=utcnow(),
                                     free_text_threshold=wave.point.responded)
    assert report.comments.latest_hidden
    assert all(MARKER not in answers for _, answers in report.comments.questions)


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("code", CODES)
def test_the_csv_downloads_show_a_hidden_wave_s_reason_only(lead, client, session, code):
    wave = find_hidden(session, lead, code)
    measures = [row for row in download(client, lead, wave.team, "measures")
                if row["Pulse"] == wave.label]
    assert len(measures) == 3
    for row in measures:
        assert (row["Invited"], row["Responded"], row["Response rate (%)"], row["Value"]) == (
            "", "", "", "")
        assert row["Hidden because"] == wave.reason
    [fatigue] = [row for row in download(client, lead, wave.team, "fatigue")
                 if row["Pulse"] == wave.label]
    assert fatigue == {
        "Pulse": wave.label, "Invited": "", "Responded": "", "Response rate (%)": "",
        "Questions left blank (%)": "", "Median completion (seconds)": "",
        "Hidden because": wave.reason,
    }


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize("code", CODES)
def test_the_api_shows_a_hidden_wave_s_reason_only(lead, client, session, code):
    wave = find_hidden(session, lead, code)
    body = api_get(client, session, f"/ints/{lead.slug}/teams/{wave.team.slug}/waves")
    [entry] = [w for w in body["waves"] if w["label"] == wave.label]
    assert entry["hidden_reason"] == wave.reason
    assert (entry["invited"], entry["responded"], entry["response_rate_percent"]) == (
        None, None, None)
    for key in ("recommend_work", "recommend_care"):
        assert {k: v for k, v in entry[key].items() if k != "hidden_reason"} == dict.fromkeys(
            ("percent", "lower", "upper", "positive", "answered", "confidence"))
        assert entry[key]["hidden_reason"] == wave.reason
    assert entry["engagement"] == {"score": None, "hidden_reason": wave.reason}


def test_the_api_overview_trend_leaves_hidden_waves_out(lead, client, session):
    codes = wave_hidden_codes(session, threshold=THRESHOLD, neighbourhood_id=lead.id)
    body = api_get(client, session, f"/ints/{lead.slug}/overview")
    checked = 0
    for entry in body["teams"]:
        if entry["hidden_reason"] is not None:
            continue
        team = session.exec(select(Team).where(Team.slug == entry["team"]["slug"])).one()
        series = team_series(session, team_id=team.id)
        trend = entry["response_rate"]["trend"]
        assert [p["wave"] for p in trend] == [w.label for w in series]
        for point, wave in zip(trend, series, strict=True):
            if codes[wave.wave_id]:
                assert point["percent"] is None
                checked += 1
            else:
                assert point["percent"] == pytest.approx(100 * wave.responded / wave.invited)
    assert checked > 0  # a shown team had an earlier hidden wave
