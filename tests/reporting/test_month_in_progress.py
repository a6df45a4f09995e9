"""The month in progress is not a month: out of the charts, periods and verdicts until it ends.

One site, a clock stopped on 15 March 2025 (London time). Patients 1 to 6 were
rated 1 in January, 2 in February and 4 so far in March; 14 others rated 3 in
January and 19 in February:

    month     ratings  low (1 or 2)
    Jan 2025     20    6  (30%)
    Feb 2025     25    6  (24%)
    Mar 2025      6    0  (so far)

So on 15 March every table covers January and February (45 ratings) and the
change compares them (paired: 1 -> 2, a mean change of +1.00); March's 6 are one
row of their own. Once March has ended (from 1 April, London time) the tables
cover 51 ratings and the change compares February with March (2 -> 4, +2.00).
Read as a full month, March would have turned the first into the second a
fortnight early.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert
from sqlmodel import select

from survey_app.core.instruments import ensure_version
from survey_app.models import ActivationRating, Neighbourhood
from survey_app.reporting.activation_report import IN_PROGRESS, Filters, activation_report

INT = "month-int"
PAGE = f"/reports/{INT}/activation"
MID_MARCH = date(2025, 3, 15)
LEAD = "lead@month-int.test"

pytestmark = pytest.mark.db


@pytest.fixture
def neighbourhood(app, session, make_site):
    site = make_site(code="MIP", int_slug=INT)
    version = ensure_version(session, instrument=app.extensions["pulse_instruments"][
        "patient-activation"])
    session.commit()
    rows = ([(date(2025, 1, 5 + p), 1, p) for p in range(1, 7)]
            + [(date(2025, 1, 20), 3, None)] * 14
            + [(date(2025, 2, 5 + p), 2, p) for p in range(1, 7)]
            + [(date(2025, 2, 20), 3, None)] * 19
            + [(date(2025, 3, 1 + p), 4, p) for p in range(1, 7)])
    session.execute(insert(ActivationRating), [
        {"id": f"{site.id:08x}{i:024x}", "site_id": site.id, "rated_on": on,
         "channel": "clinician", "rating": rating, "questionnaire_version_id": version.id,
         "idempotency_key": f"month-{i}", "proxy": False, "easy_read": False,
         "patient_pseudonym": f"{patient:064x}" if patient else None}
        for i, (on, rating, patient) in enumerate(rows)
    ])
    session.commit()
    return session.exec(select(Neighbourhood).where(Neighbourhood.slug == INT)).one()


@pytest.fixture
def lead_client(client, login, make_user, neighbourhood):
    make_user("lead", email=LEAD, ints=(INT,))
    assert login(client, LEAD).status_code == 302
    return client


@pytest.fixture
def clock(monkeypatch):
    """Stop the activation pages' clock at a UTC moment."""
    def stop(moment: datetime) -> None:
        monkeypatch.setattr("survey_app.reporting.views.activation.utcnow", lambda: moment)
    return stop


def _report(session, neighbourhood, today):
    return activation_report(session, neighbourhood=neighbourhood, threshold=5, today=today)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _csv(client, table: str) -> list[dict[str, str]]:
    response = client.get(f"{PAGE}/{table}.csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_mid_month_the_month_so_far_is_left_out_of_the_series_and_the_change(
        session, neighbourhood):
    report = _report(session, neighbourhood, MID_MARCH)
    assert [(m.label, m.n) for m in report.months] == [("Jan 2025", 20), ("Feb 2025", 25)]
    in_progress = report.month_in_progress
    assert in_progress is not None
    assert (in_progress.key, in_progress.label, in_progress.n, in_progress.counts) == (
        "2025-03", "Mar 2025 so far (month in progress)", 6, (0, 0, 0, 6))
    assert report.month_in_progress_name == "Mar 2025"
    # No total counts March yet: not "All months", not the sites or channels.
    assert report.total.n == 45
    assert [site.n for site in report.by_site] == [45]
    assert {channel.key: channel.n for channel in report.by_channel}["clinician"] == 45
    # The change compares the two months that have ended.
    assert (report.earlier_label, report.later_label) == ("Jan 2025", "Feb 2025")
    everyone = report.periods[-1]
    assert (everyone.earlier.n, everyone.later.n) == (20, 25)
    assert everyone.change is not None
    assert everyone.change.estimate1 == pytest.approx(0.30)
    assert everyone.change.estimate2 == pytest.approx(0.24)
    paired = report.paired[-1]
    assert paired.pairs == 6
    assert paired.change is not None
    assert paired.change.baseline_mean == pytest.approx(1.0)
    assert paired.change.followup_mean == pytest.approx(2.0)  # February's 2, not March's 4
    assert "1.00 points higher" in paired.sentence


def test_once_the_month_ends_it_joins_the_series(session, neighbourhood):
    report = _report(session, neighbourhood, date(2025, 4, 1))
    assert report.month_in_progress is None
    assert [(m.label, m.n) for m in report.months] == [
        ("Jan 2025", 20), ("Feb 2025", 25), ("Mar 2025", 6)]
    assert report.total.n == 51 and [site.n for site in report.by_site] == [51]
    assert (report.earlier_label, report.later_label) == ("Feb 2025", "Mar 2025")
    everyone = report.periods[-1]
    assert (everyone.earlier.n, everyone.later.n) == (25, 6)
    paired = report.paired[-1]
    assert paired.pairs == 6
    assert paired.change is not None
    assert (paired.change.baseline_mean, paired.change.followup_mean) == pytest.approx((2, 4))


def test_with_only_the_month_in_progress_there_is_nothing_to_chart_or_compare(
        session, neighbourhood):
    report = _report(session, neighbourhood, date(2025, 1, 31))
    assert report.months == () and report.total.n == 0
    assert report.month_in_progress is not None and report.month_in_progress.n == 20
    assert report.has_ratings
    assert report.periods == () and report.paired == ()


def test_the_page_marks_the_month_so_far_and_draws_only_the_months_ended(
        lead_client, clock):
    clock(datetime(2025, 3, 15, 12, 0, tzinfo=UTC))
    page = lead_client.get(PAGE).get_data(as_text=True)
    distribution = re.search(r'<table class="nhsuk-table" id="distribution-table">(.*?)'
                             r"</table>", page, re.S).group(1)
    march = re.search(r'<tr data-month="2025-03">(.*?)</tr>', distribution, re.S).group(1)
    assert _text(march) == "Mar 2025 so far (month in progress) 6 0 0% 0 0% 0 0% 6 100%"
    charts = "".join(re.findall(r'<figure class="pulse-activation-chart">(.*?)</figure>',
                                page, re.S))
    # Every label and tooltip the charts draw starts with its month's name.
    assert set(re.findall(r">([A-Z][a-z]{2} \d{4})", charts)) == {"Jan 2025", "Feb 2025"}
    assert "Mar 2025 is not drawn until it ends" in charts  # the charts' text alternative
    words = _text(page)
    assert "45 ratings from Jan 2025 to Feb 2025" in words
    assert "Mar 2025 has not ended: 6 ratings so far." in words
    assert ("This compares Jan 2025 (earlier) with Feb 2025 (later), in two ways; "
            "Mar 2025, still in progress, is left out until it ends.") in words


def test_the_csv_labels_the_month_so_far_and_its_periods_end_before_it(lead_client, clock):
    clock(datetime(2025, 3, 15, 12, 0, tzinfo=UTC))
    months = [(row["Month"], row["Ratings"]) for row in _csv(lead_client, "distribution")]
    # Last, after "All months": it is not in that total.
    assert months == [("Jan 2025", "20"), ("Feb 2025", "25"), ("All months", "45"),
                      (f"Mar 2025 {IN_PROGRESS}", "6")]
    low = [row["Month"] for row in _csv(lead_client, "low-activation")]
    assert low[3] == "Mar 2025 so far (month in progress)"
    [site, everyone] = _csv(lead_client, "periods")
    assert (everyone["Earlier period"], everyone["Later period"]) == ("Jan 2025", "Feb 2025")
    assert (everyone["Earlier: ratings"], everyone["Later: ratings"]) == ("20", "25")


def test_the_month_ends_at_midnight_in_london_not_utc(lead_client, clock):
    # 23:30 UTC on 31 March 2025 is 00:30 on 1 April in London (BST began on 30 March).
    clock(datetime(2025, 3, 31, 23, 30, tzinfo=UTC))
    months = [row["Month"] for row in _csv(lead_client, "distribution")]
    assert months == ["Jan 2025", "Feb 2025", "Mar 2025", "All months"]
    # An hour earlier it was still March in London.
    clock(datetime(2025, 3, 31, 22, 30, tzinfo=UTC))
    months = [row["Month"] for row in _csv(lead_client, "distribution")]
    assert months[3] == "Mar 2025 so far (month in progress)"


def test_a_small_month_so_far_cannot_be_worked_out_from_a_total(app, session, make_site):
    # The first days of a month: 2 kiosk and 10 clinician ratings so far.
    site = make_site(code="SFS", int_slug="so-far-int")
    version = ensure_version(session, instrument=app.extensions["pulse_instruments"][
        "patient-activation"])
    rows = ([(date(2025, 1, 10), "clinician")] * 20 + [(date(2025, 2, 10), "clinician")] * 25
            + [(date(2025, 3, 1), "clinician")] * 10 + [(date(2025, 3, 2), "kiosk")] * 2)
    session.execute(insert(ActivationRating), [
        {"id": f"{site.id:08x}{i:024x}", "site_id": site.id, "rated_on": on,
         "channel": channel, "rating": 1 + i % 4, "questionnaire_version_id": version.id,
         "idempotency_key": f"so-far-{i}", "proxy": False, "easy_read": False,
         "patient_pseudonym": None}
        for i, (on, channel) in enumerate(rows)])
    session.commit()
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == "so-far-int")).one()

    whole = _report(session, neighbourhood, date(2025, 3, 3))
    # March's 12 are in no total shown, so January and February need not hide.
    assert ([m.n for m in whole.months], whole.total.n) == ([20, 25], 45)
    assert [(p.earlier.n, p.later.n) for p in whole.periods] == [(20, 25), (20, 25)]
    assert whole.month_in_progress.n == 12
    kiosk = activation_report(session, neighbourhood=neighbourhood, threshold=5,
                              today=date(2025, 3, 3), filters=Filters(channel="kiosk"))
    assert kiosk.month_in_progress.n is None
    assert kiosk.month_in_progress.hidden_reason == "too few answers"
    # 12 - 10 would give the kiosk's 2 away: the clinicians' month so far is hidden too.
    clinician = activation_report(session, neighbourhood=neighbourhood, threshold=5,
                                  today=date(2025, 3, 3), filters=Filters(channel="clinician"))
    assert clinician.month_in_progress.n is None
    assert clinician.month_in_progress.hidden_reason == "hidden to protect another group"
