"""Every CSV download says why a row is blank in one "Hidden because" column, not one per figure."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import insert

from survey_app import demo
from survey_app.core.instruments import ensure_version
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import ActivationRating

pytestmark = pytest.mark.db

ACTIVATION_TABLES = ("distribution", "low-activation", "sites", "channels", "site-channel",
                     "periods", "paired")
TEAM_TABLES = ("measures", "heatmap", "fatigue")
FIGURES = ("Ratings", "1 Not very (number)", "2 Okay (number)", "3 Good (number)",
           "4 Excellent (number)", "% low (1 or 2)", "% low: 95% interval from",
           "% low: 95% interval to", "Mean rating")


def _download(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_each_download_of_the_demo_has_one_reason_column_last(client, login, riverside):
    slug = demo.INT_SLUG
    urls = ([f"/reports/{slug}/overview.csv"]
            + [f"/reports/{slug}/teams/{demo.IMPROVING_TEAM}/{t}.csv" for t in TEAM_TABLES]
            + [f"/reports/{slug}/activation/{t}.csv" for t in ACTIVATION_TABLES])
    assert login(client, f"admin@{demo.EMAIL_DOMAIN}", DEMO_PASSWORD).status_code == 302
    for url in [*urls, "/reports/icb.csv"]:
        header = _download(client, url)[0]
        reasons = [name for name in header if name.lower().endswith("hidden because")]
        assert reasons == ["Hidden because"] and header[-1] == "Hidden because", url
    # The overview was 36 columns, a reason beside each of its 17 figures; now 20.
    overview = _download(client, urls[0])[0]
    assert overview[:3] == ["Team", "Latest closed pulse", "Answers"]
    assert len(overview) == 20


@pytest.fixture
def three_sites(app, session, make_site):
    """Sites of 3, 20 and 25 clinician ratings (ratings 1 to 4 in turn), all in Jan 2025."""
    version = ensure_version(session, instrument=app.extensions["pulse_instruments"][
        "patient-activation"])
    session.commit()
    counter = iter(range(10**6))
    for code, count in (("SML", 3), ("MID", 20), ("BIG", 25)):
        site = make_site(code=code)
        session.execute(insert(ActivationRating), [
            {"id": f"{site.id:08x}{next(counter):024x}", "site_id": site.id,
             "rated_on": date(2025, 1, 10), "channel": "clinician", "rating": 1 + i % 4,
             "questionnaire_version_id": version.id, "idempotency_key": f"{code}-{i}",
             "proxy": False, "easy_read": False, "patient_pseudonym": None}
            for i in range(count)])
    session.commit()


def test_a_hidden_row_is_blank_in_every_figure_and_gives_one_reason(
        client, login, make_user, three_sites):
    make_user("lead", email="lead@test-int.test", ints=("test-int",))
    assert login(client, "lead@test-int.test").status_code == 302
    header, *rows = _download(client, "/reports/test-int/activation/sites.csv")
    assert header == ["Site", *FIGURES, "Hidden because"]
    by_site = {row[0]: row for row in rows}
    # SML's 3 are too few; MID goes too, or SML would be the INT's total minus the rest.
    assert by_site["Site SML"] == ["Site SML", *[""] * len(FIGURES), "too few answers"]
    assert by_site["Site MID"] == ["Site MID", *[""] * len(FIGURES),
                                   "hidden to protect another group"]
    # BIG's 25: ratings 1, 2, 3, 4 in turn (7, 6, 6, 6); 13 of 25 low is 52%.
    big = by_site["Site BIG"]
    assert big[:7] == ["Site BIG", "25", "7", "6", "6", "6", "52.0"]
    assert big[9] == "2.44"  # (7 + 12 + 18 + 24) / 25
    assert big[-1] == ""
