"""The team report page: its figures are analysis/'s, suppressed, with actions and comments."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import select

from analysis.spc import xmr
from survey_app.core.clock import LONDON, as_utc, utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import AuditEvent, Neighbourhood, Team, TeamAction, TeamRebase, Wave
from survey_app.models import WaveItemSummary as ItemRow
from survey_app.pulse import waves
from survey_app.reporting import overview, team_report
from survey_app.reporting.views.overview import FATIGUE_LABELS, FATIGUE_TAGS
from tests.dates import date_fields, with_date_fields
from tests.figures import renderings

TEAM = "district-nursing"


@pytest.fixture
def lead_signed_in(session, client, login, riverside):
    """The demo INT loaded and its lead signed in; returns the INT's slug."""
    slug = session.exec(select(Neighbourhood.slug)).one()
    response = login(client, "lead@riverside-int.example", DEMO_PASSWORD)
    assert response.status_code == 302
    return slug


def team_of(session, slug):
    return session.exec(select(Team).where(Team.slug == slug)).one()


def table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with ``table_id``, as the text of each cell."""
    match = re.search(rf'<table class="nhsuk-table" id="{table_id}">(.*?)</table>', html, re.S)
    assert match, f"no table {table_id}"
    body = match.group(1).split("<tbody", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def header(html: str, table_id: str) -> list[str]:
    match = re.search(rf'<table class="nhsuk-table" id="{table_id}">.*?<thead[^>]*>(.*?)</thead>',
                      html, re.S)
    assert match
    return [unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<th[^>]*>(.*?)</th>", match.group(1), re.S)]


def fmt(value: float, unit: str = "%") -> str:
    return f"{value:.1f}{unit}"


def work_percentages(series):
    return [100 * w.positive("recommend_work")[0] / w.positive("recommend_work")[1]
            for w in series]


def page(client, int_slug, team=TEAM):
    response = client.get(f"/reports/{int_slug}/teams/{team}")
    assert response.status_code == 200
    return response.data.decode()


def test_the_chart_figures_are_analysis_xmr_of_the_same_percentages(lead_signed_in, client,
                                                                    session):
    html = page(client, lead_signed_in)
    series = overview.team_series(session, team_id=team_of(session, TEAM).id)
    values = work_percentages(series)
    chart = xmr(values, improvement="increase")
    rows = table(html, "table-recommend_work")
    assert [row[0] for row in rows] == [w.label for w in series]
    for i, row in enumerate(rows):
        assert row[1] == fmt(100 * series[i].responded / series[i].invited)
        assert row[2:6] == [fmt(values[i]), fmt(chart.mean[i]), fmt(chart.lower[i]),
                            fmt(chart.upper[i])]
    # The team whose engagement really rose shows special-cause improvement, on the
    # chart (blue squares) and in words in the table.
    assert "special_cause_improvement" in chart.variation
    assert any(row[6] == "Unusual rise, better" for row in rows)
    assert 'class="point point--special_cause_improvement"' in html
    # Engagement too is analysis/'s, from the per-wave totals.
    engagement = table(html, "table-engagement")
    assert all(re.fullmatch(r"\d+\.\d", row[2]) for row in engagement)
    # Every chart has its title and description, and the response rate sits under it.
    assert html.count('<svg') >= 7
    # Each chart is drawn wide and narrow (CSS shows one of them): two of each.
    assert html.count("chart chart--response-rate") == 6
    assert "<title" in html and "<desc" in html


class TestSuppression:
    @pytest.fixture
    def app_config(self):
        # 12: the demo nursing team's latest pulse (11 answers) falls below it.
        return {"PULSE_SUPPRESSION_THRESHOLD": 12}

    def test_a_wave_below_the_threshold_is_a_gap_with_its_reason(self, lead_signed_in, client,
                                                                 session):
        html = page(client, lead_signed_in)
        series = overview.team_series(session, team_id=team_of(session, TEAM).id)
        assert series[-1].responded == 11
        rows = table(html, "table-recommend_work")
        assert rows[-1][2] == "–"
        assert rows[-1][6] == "Hidden: too few answers"
        assert f"{series[-1].label}: hidden, too few answers" in html
        # The gap is left out of the limits: they are xmr's of the shown waves only.
        shown = [None if row[6].startswith("Hidden") else v
                 for row, v in zip(rows, work_percentages(series), strict=True)]
        chart = xmr([math.nan if v is None else v for v in shown])
        assert rows[0][3:6] == [fmt(chart.mean[0]), fmt(chart.lower[0]), fmt(chart.upper[0])]
        # The fatigue table hides the whole wave too: no counts, no response rate.
        fatigue = table(html, "table-fatigue")
        assert fatigue[-1][1:] == ["Hidden: too few answers"] * 5
        assert rows[-1][1] == "–"  # nor a response rate beside the chart

    def test_heatmap_cells_below_the_threshold_are_hidden(self, lead_signed_in, client, session,
                                                          app):
        html = page(client, lead_signed_in)
        team = team_of(session, TEAM)
        series = overview.team_series(session, team_id=team.id)
        hidden = team_report.wave_hidden_reasons(session, team=team, series=series,
                                                 threshold=12)
        columns = header(html, "table-heatmap")[1:]
        assert len(columns) == 4  # 12 monthly pulses in groups of three
        instrument = app.extensions["pulse_instruments"]["team-pulse"]
        rows = table(html, "table-heatmap")
        assert [row[0] for row in rows] == [item.text for item in instrument.pool_items]
        seen_hidden = seen_shown = 0
        for item, row in zip(instrument.pool_items, rows, strict=True):
            for c, cell in enumerate(row[1:]):
                window = [i for i in range(3 * c, 3 * c + 3) if hidden[i] is None]
                found = [session.get(ItemRow, (series[i].wave_id, item.id)) for i in window]
                # The mean is over scored answers, so they are what must reach 12.
                scored = sum(f.scored for f in found if f)
                if scored < 12:
                    assert cell.startswith("Hidden: "), (item.id, c, scored)
                    seen_hidden += 1
                else:
                    mean = sum(f.score_sum for f in found if f) / sum(f.scored for f in found if f)
                    assert cell in renderings(mean, ".1f")
                    seen_shown += 1
        assert seen_hidden and seen_shown
        assert 'class="cell cell--hidden"' in html


def test_a_heatmap_cell_needs_enough_scored_answers_not_just_answers(lead_signed_in, client,
                                                                     session, app):
    # Most of the first group's answers to one question become "Don't know", which has
    # no score: 24 answered, but the mean would rest on 3 people.
    team = team_of(session, TEAM)
    series = overview.team_series(session, team_id=team.id)
    item = app.extensions["pulse_instruments"]["team-pulse"].pool_items[0]
    rows = [session.get(ItemRow, (w.wave_id, item.id)) for w in series[:3]]
    assert sum(row.answered for row in rows) >= 5
    for row in rows:
        row.dont_know, row.scored, row.score_sum, row.score_sq_sum = row.answered - 1, 1, 5, 25
    session.commit()
    [first_row] = [row for row in table(page(client, lead_signed_in), "table-heatmap")
                   if row[0] == item.text]
    assert first_row[1] == "Hidden: too few answers"


def heatmap_columns(report) -> dict[str, list]:
    """Each heatmap column's label and its cells (value and hidden reason), top to bottom."""
    return {column: [row.cells[c] for row in report.heatmap_rows]
            for c, column in enumerate(report.heatmap_columns)}


def test_heatmap_groups_are_fixed_from_the_first_pulse_so_closing_one_changes_no_column(
        lead_signed_in, client, session, app, monkeypatch):
    # Groups that slid with the latest pulse would differ by one pulse from last month's:
    # compared with this month's, they would give one pulse's answers away.
    team = team_of(session, TEAM)
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    series = overview.team_series(session, team_id=team.id)
    labels = [w.label for w in series]
    assert len(series) == 12
    later = [session.get(Wave, w.wave_id) for w in series[4:]]
    closed_at = [wave.closed_at for wave in later]
    for wave in later:  # as if only the first four pulses had closed
        wave.closed_at = None
    session.commit()

    def report():
        return team_report.team_report(session, team=team, instrument=instrument,
                                       threshold=5, now=utcnow(), with_comments=False)

    shown: dict[str, list] = {}
    for count in range(4, 13):
        if count > 4:  # one more pulse closes
            later[count - 5].closed_at = closed_at[count - 5]
            session.commit()
        current = report()
        assert current.labels == tuple(labels[:count])
        columns = heatmap_columns(current)
        # Complete groups only, counted from the first pulse; the rest wait.
        assert list(columns) == [f"{labels[k]} to {labels[k + 2]}"
                                 for k in range(0, count - 2, 3)]
        assert current.heatmap_waiting == tuple(labels[3 * (count // 3):count])
        for column, cells in columns.items():
            assert shown.setdefault(column, cells) == cells, (count, column)
        if count == 7:
            html = page(client, lead_signed_in)
            assert len(header(html, "table-heatmap")) == 1 + 2
            assert f"{labels[6]} will appear when its group is complete" in html
    assert len(shown) == 4
    assert any(cell.value is not None for cells in shown.values() for cell in cells)
    # Past the most columns drawn, the oldest groups are dropped whole.
    monkeypatch.setattr(team_report, "MAX_WINDOWS", 2)
    assert heatmap_columns(report()) == {column: shown[column]
                                         for column in list(shown)[-2:]}


def test_too_few_pulses_for_a_heatmap_group_says_so(app, session, open_wave, hidden_fields,
                                                    small_team_lead, client):
    answered_wave(app, session, open_wave, hidden_fields, answers=10, slug="ten")
    small_team_lead()
    html = page(client, "test-int", "ten")
    section = html.split('<section id="heatmap"', 1)[1].split("</section>", 1)[0]
    assert 'id="table-heatmap"' not in section
    assert "will appear when its group is complete" in section


def test_engagement_needs_enough_scored_answers_in_every_group(lead_signed_in, session, app):
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    items = overview.engagement_items(instrument)
    threshold = 6
    hidden_by_a_group = 0
    for team in session.exec(select(Team)).all():
        report = team_report.team_report(session, team=team, instrument=instrument,
                                         threshold=threshold, now=utcnow(),
                                         with_comments=False)
        engagement = {m.key: m for m in report.measures}["engagement"]
        for i, point in enumerate(report.waves):
            rows = [point.items.get(item_id) for item_id, _ in items]
            groups: dict[str, int] = {}
            for row, (_, group) in zip(rows, items, strict=True):
                groups[group] = groups.get(group, 0) + (row.scored if row else 0)
            if report.wave_hidden[i] is not None:
                assert engagement.values[i] is None
                assert engagement.hidden_reasons[i] == report.wave_hidden[i]
            elif min(groups.values()) < threshold:
                assert engagement.values[i] is None
                assert engagement.hidden_reasons[i] == "too few answers"
                hidden_by_a_group += 1
            else:
                assert engagement.hidden_reasons[i] is None
                assert engagement.values[i] == overview.engagement_of(
                    [row.score_sum if row else 0.0 for row in rows],
                    [row.scored if row else 0 for row in rows], [g for _, g in items])
    # The demo has shown pulses whose engagement rests on too few answers in a group.
    assert hidden_by_a_group


def test_the_fatigue_judgement_uses_the_overview_s_words(lead_signed_in, client, session):
    html = page(client, lead_signed_in)
    series = overview.team_series(session, team_id=team_of(session, TEAM).id)
    level = overview.fatigue_of(series).level
    assert (f'<strong class="nhsuk-tag {FATIGUE_TAGS[level]}">{FATIGUE_LABELS[level]}</strong>'
            in html)


def test_comments_need_their_threshold_unless_left_out(app, session):
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    team = Team(name="No one", slug="no-one", neighbourhood_id=0)
    with pytest.raises(ValueError, match="free_text_threshold"):
        team_report.team_report(session, team=team, instrument=instrument, threshold=5,
                                now=utcnow())


def test_a_team_hidden_to_protect_another_says_so(lead_signed_in, client, session):
    # In one month the mental health team had 3 answers: one more team is hidden that
    # month, or the INT's total would give the small team's figures away.
    html = page(client, lead_signed_in, "social-care")
    reasons = {row[6] for row in table(html, "table-recommend_work")}
    assert "Hidden: hidden to protect another group" in reasons


def test_an_unknown_team_is_404_and_another_ints_lead_403(lead_signed_in, client, session, app,
                                                          make_team, make_user, login):
    assert client.get(f"/reports/{lead_signed_in}/teams/nobody").status_code == 404
    make_team(slug="elsewhere", size=1)
    make_user("lead", email="other-lead@example.test", ints=("test-int",))
    other = app.test_client()
    login(other, "other-lead@example.test")
    base = f"/reports/{lead_signed_in}/teams/{TEAM}"
    assert other.get(base).status_code == 403
    assert other.get(f"{base}/measures.csv").status_code == 403
    assert other.post(f"{base}/actions", data={}).status_code == 403
    assert other.post(f"{base}/rebase", data={}).status_code == 403
    # Nor can a team of another INT be reached through one's own INT.
    assert other.get(f"/reports/test-int/teams/{TEAM}").status_code == 404


def wave_date(session, wave_id, offset_days=0):
    wave = session.get(Wave, wave_id)
    return (as_utc(wave.opens_at).astimezone(LONDON) + timedelta(days=offset_days)).date()


def test_an_action_added_through_the_form_is_listed_and_drawn(lead_signed_in, client, session,
                                                              hidden_fields):
    team = team_of(session, TEAM)
    series = overview.team_series(session, team_id=team.id)
    url = f"/reports/{lead_signed_in}/teams/{TEAM}"
    fields = hidden_fields(client.get(url).data)
    taken_on = wave_date(session, series[5].wave_id, 2)
    before = len(session.exec(select(TeamAction)).all())  # the demo's own log
    response = client.post(f"{url}/actions", data={
        **fields, **date_fields("taken_on", taken_on), "stage": "Do",
        "description": "Started a weekly huddle"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}#actions")
    [action] = session.exec(select(TeamAction).where(
        TeamAction.description == "Started a weekly huddle")).all()
    assert len(session.exec(select(TeamAction)).all()) == before + 1
    assert (action.team_id, action.taken_on, action.stage) == (team.id, taken_on, "Do")
    html = client.get(url).data.decode()
    assert "Action added to the log" in html
    rows = table(html, "table-actions")
    assert [row[0] for row in rows] == [f"A{n}" for n in range(1, len(rows) + 1)]
    [row] = [row for row in rows if row[3] == "Started a weekly huddle"]
    assert row[1:] == [f"{taken_on.day} {taken_on:%B %Y}", "Do", "Started a weekly huddle",
                       series[5].label]
    # A marker on each of the three charts (each drawn wide and narrow), at that pulse.
    assert html.count(f"<title>{row[0]}: Started a weekly huddle</title>") == 6
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "action.add")).all()
    assert len(events) == 1 and events[0].target == f"team:{lead_signed_in}/{TEAM}"
    assert "huddle" not in (events[0].detail or "")


@pytest.mark.parametrize(("change", "message"), [
    ({"description": "   "}, "Enter what was done"),
    ({"taken_on": "2999-01-01"}, "The date must be today or in the past"),
    ({"taken_on": "31/02/2025"},
     "Date of the action must be a real date: February 2025 has no day 31"),
    ({"taken_on": "6/1/"}, "Date of the action must include a year"),
    ({"taken_on": "6/Jan/2025"}, "The month of date of the action must be a number"),
    ({"taken_on": ""}, "Enter the date of the action"),
    ({"stage": "Celebrate"}, "Choose a stage from the list"),
    ({"description": "x" * 501}, "500 characters or fewer"),
    ({"csrf_token": None}, "This form had expired"),
])
def test_bad_action_input_is_refused_with_the_error_summary(lead_signed_in, client, session,
                                                            hidden_fields, change, message):
    url = f"/reports/{lead_signed_in}/teams/{TEAM}"
    data = with_date_fields({**hidden_fields(client.get(url).data), "taken_on": "2025-01-06",
                             "stage": "Plan", "description": "Started a weekly huddle",
                             **change}, "taken_on")
    before = len(session.exec(select(TeamAction)).all())
    response = client.post(f"{url}/actions",
                           data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 400
    html = response.data.decode()
    assert "There is a problem" in html and message in unescape(html)
    assert len(session.exec(select(TeamAction)).all()) == before


def test_rebase_is_refused_without_special_cause_and_recomputes_limits_with_it(
        lead_signed_in, client, session, hidden_fields):
    # The practice's charts show only common cause: nowhere to start afresh.
    gp = team_of(session, "gp-practice")
    gp_series = overview.team_series(session, team_id=gp.id)
    gp_url = f"/reports/{lead_signed_in}/teams/gp-practice"
    html = client.get(gp_url).data.decode()
    assert "No chart shows a lasting change" in html
    response = client.post(f"{gp_url}/rebase", data={
        **hidden_fields(html.encode()), "wave_id": str(gp_series[6].wave_id),
        "reason": "New manager"})
    assert response.status_code == 400
    assert "The charts show no sustained shift at that pulse" in response.data.decode()
    assert session.exec(select(TeamRebase)).all() == []

    # The nursing team's shift begins at the sixth pulse: the lead starts afresh there.
    team = team_of(session, TEAM)
    series = overview.team_series(session, team_id=team.id)
    values = work_percentages(series)
    url = f"/reports/{lead_signed_in}/teams/{TEAM}"
    before = client.get(url).data.decode()
    assert xmr(values).rule[5] == "shift"
    assert f'<option value="{series[5].wave_id}">' in before
    response = client.post(f"{url}/rebase", data={
        **hidden_fields(before.encode()), "wave_id": str(series[5].wave_id),
        "reason": "New rota from this month"})
    assert response.status_code == 302
    [rebase] = session.exec(select(TeamRebase)).all()
    assert (rebase.team_id, rebase.wave_id) == (team.id, series[5].wave_id)
    after = client.get(url).data.decode()
    rebased = xmr(values, rebase_at=[5])
    old_rows, rows = table(before, "table-recommend_work"), table(after, "table-recommend_work")
    for i, row in enumerate(rows):
        assert row[3:6] == [fmt(rebased.mean[i]), fmt(rebased.lower[i]),
                            fmt(rebased.upper[i])]
    assert rows[0][3] != old_rows[0][3] and rows[-1][3] != old_rows[-1][3]
    assert 'class="rebase"' in after and "New rota from this month" in after
    # The same wave cannot be offered again.
    assert f'<option value="{series[5].wave_id}">' not in after
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "rebase.add")).one()


def test_each_table_downloads_as_csv(lead_signed_in, client, session, hidden_fields):
    url = f"/reports/{lead_signed_in}/teams/{TEAM}"
    series = overview.team_series(session, team_id=team_of(session, TEAM).id)
    client.post(f"{url}/actions", data={
        **hidden_fields(client.get(url).data),
        **date_fields("taken_on", wave_date(session, series[2].wave_id)), "stage": "Plan",
        "description": "=HYPERLINK(\"x\") rota review"})
    parsed = {}
    for name in ("measures", "heatmap", "fatigue", "actions"):
        response = client.get(f"{url}/{name}.csv")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert f"{lead_signed_in}-{TEAM}-{name}.csv" in response.headers["Content-Disposition"]
        parsed[name] = list(csv.reader(io.StringIO(response.data.decode())))
    measures = parsed["measures"]
    assert measures[0] == ["Measure", "Pulse", "Invited", "Responded", "Response rate (%)",
                           "Value", "Mean", "Lower process limit",
                           "Upper process limit", "Variation", "Hidden because"]
    assert len(measures) == 1 + 3 * len(series)
    chart = xmr(work_percentages(series))
    first = measures[1]
    assert first[1] == series[0].label
    assert float(first[5]) == pytest.approx(work_percentages(series)[0], abs=0.01)
    assert float(first[6]) == pytest.approx(chart.mean[0], abs=0.01)
    assert parsed["heatmap"][0] == ["Question", "Pulses", "Mean score (0 to 10)",
                                    "Hidden because"]
    assert parsed["fatigue"][0][:4] == ["Pulse", "Invited", "Responded", "Response rate (%)"]
    assert len(parsed["fatigue"]) == 1 + len(series)
    # A description that looks like a formula is neutralised.
    assert parsed["actions"][0] == ["Marker", "Date", "Stage", "What was done",
                                    "Drawn at pulse"]
    assert any(row[3].startswith("'=HYPERLINK") for row in parsed["actions"][1:])
    assert client.get(f"{url}/comments.csv").status_code == 404
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "report.csv")).all()
    assert sorted(json.loads(e.detail)["file"] for e in events) == sorted(
        f"{lead_signed_in}-{TEAM}-{name}" for name in ("measures", "heatmap", "fatigue", "actions"))


def test_viewing_the_page_is_audited(lead_signed_in, client, session):
    page(client, lead_signed_in)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "report.view")).all()
    assert event.target == f"team:{lead_signed_in}/{TEAM}"


# --------------------------------------------------------------------------- comments


@pytest.fixture
def small_team_lead(make_user, login, client):
    """Sign the test INT's lead in (once the INT exists)."""

    def sign_in():
        make_user("lead", email="lead@test.example", ints=("test-int",))
        login(client, "lead@test.example")

    return sign_in


def answered_wave(app, session, open_wave, hidden_fields, *, answers, slug):
    wave = open_wave(size=12, slug=slug)
    staff = app.test_client()
    for n, url in enumerate(wave.urls[:answers]):
        form = staff.get(url)
        response = staff.post(url, data={**hidden_fields(form.data), "recommend_work": "likely",
                                          "one_thing_better": f"Comment number {n}"})
        assert response.status_code in (200, 302, 303)
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    return wave


def comments_section(html: str) -> str:
    return html.split('<section id="comments"', 1)[1].split("</section>", 1)[0]


def test_comments_are_hidden_below_ten_answers(app, session, open_wave, hidden_fields,
                                               small_team_lead, client):
    answered_wave(app, session, open_wave, hidden_fields, answers=9, slug="nine")
    small_team_lead()
    section = comments_section(page(client, "test-int", "nine"))
    assert "comments are hidden to protect anonymity" in section
    assert "Comment number" not in section


def test_comments_are_all_shown_at_ten_answers_without_dates_in_changing_order(
        app, session, open_wave, hidden_fields, small_team_lead, client):
    answered_wave(app, session, open_wave, hidden_fields, answers=10, slug="ten")
    small_team_lead()
    orders = set()
    for _ in range(3):
        section = comments_section(page(client, "test-int", "ten"))
        found = re.findall(r"Comment number \d+", section)
        assert sorted(found) == sorted(f"Comment number {n}" for n in range(10))
        orders.add(tuple(found))
        assert not re.search(r"\b20\d\d\b|January|February|March|April|May|June|July|"
                             r"August|September|October|November|December", section)
    assert len(orders) > 1  # shuffled on each render (odds of three equal orders: 1 in 10^13)
