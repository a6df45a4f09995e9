"""The patient activation page and its CSVs: analysis/'s numbers, suppression, the demo's story.

Expected figures are computed here from the rating rows with analysis/, not
through the service the page uses (which counts in SQL), so a slip in either shows.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter, defaultdict
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import insert
from sqlmodel import col, select

from analysis.activation import NAPC_FIGURES, activation_from_counts, paired_activation_change
from analysis.proportions import wilson_interval
from survey_app import demo
from survey_app.core.instruments import ensure_version
from survey_app.demo.patients import DEMO_PASSWORD, GROUP_SITE, STEADY_SITE
from survey_app.models import ActivationRating, AuditEvent, Neighbourhood, Site
from survey_app.reporting.activation_report import Filters, activation_report
from tests.conftest import PASSWORD

LEAD = f"lead@{demo.EMAIL_DOMAIN}"
ADMIN = f"admin@{demo.EMAIL_DOMAIN}"
PAGE = f"/reports/{demo.INT_SLUG}/activation"
#: Later than every rating these tests add: each of their months has ended.
TODAY = date(2099, 1, 1)


@pytest.fixture
def add_ratings(app, session):
    """Add ratings to a site: ``add_ratings(site, [(date, channel, rating), ...])``.

    A row may end with a patient number, which becomes that patient's pseudonym.
    """
    version = ensure_version(session, instrument=app.extensions["pulse_instruments"][
        "patient-activation"])
    session.commit()
    serial = iter(range(10**6))

    def add(site: Site, rows: list[tuple[date, str, int] | tuple[date, str, int, int]]
            ) -> None:
        session.execute(insert(ActivationRating), [
            {"id": f"{site.id:08x}{next(serial):024x}", "site_id": site.id, "rated_on": on,
             "channel": channel, "rating": rating, "questionnaire_version_id": version.id,
             "idempotency_key": f"{site.code}-{next(serial)}", "proxy": False,
             "easy_read": False,
             "patient_pseudonym": f"{patient[0]:064x}" if patient else None}
            for on, channel, rating, *patient in rows
        ])
        session.commit()

    return add


def sign_in(client, login, email=LEAD):
    assert login(client, email, password=DEMO_PASSWORD).status_code == 302


def table(page: str, table_id: str) -> str:
    found = re.search(rf'<table class="nhsuk-table" id="{table_id}">(.*?)</table>', page, re.S)
    assert found, table_id
    return found.group(1)


def row(fragment: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>',
                      fragment, re.S)
    assert found, value
    return found.group(1)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def csv_rows(client, name: str, **query) -> list[dict[str, str]]:
    response = client.get(f"{PAGE}/{name}.csv", query_string=query)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def rating_rows(session, neighbourhood):
    return session.exec(
        select(ActivationRating, Site.code)
        .join(Site, col(Site.id) == col(ActivationRating.site_id))
        .where(Site.neighbourhood_id == neighbourhood.id)
        .order_by(col(ActivationRating.rated_on), col(ActivationRating.id))).all()


# --------------------------------------------------------------------------- the figures


def test_each_months_share_low_and_interval_are_analysis_figures(session, client, login,
                                                                 riverside):
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for rating, _code in rating_rows(session, riverside):
        counts[f"{rating.rated_on:%Y-%m}"][rating.rating] += 1
    assert len(counts) == 12
    sign_in(client, login)
    page = client.get(PAGE).get_data(as_text=True)
    low_table = table(page, "low-table")
    distribution = table(page, "distribution-table")
    downloaded = {r["Month"]: r for r in csv_rows(client, "low-activation")}
    for month, by_rating in counts.items():
        n = sum(by_rating.values())
        expected = wilson_interval(by_rating[1] + by_rating[2], n)
        cells = text_of(row(low_table, "data-month", month))
        assert f"{n} {pct(expected.estimate)} 95% interval {pct(expected.lower)} to " \
               f"{pct(expected.upper)}" in cells
        summary = activation_from_counts([by_rating[k] for k in (1, 2, 3, 4)])
        shown = text_of(row(distribution, "data-month", month))
        for k in (1, 2, 3, 4):
            assert f"{by_rating[k]} {pct(summary.proportions[k - 1])}" in shown
        label = f"{date.fromisoformat(month + '-01'):%b %Y}"
        line = downloaded[label]
        assert int(line["Ratings"]) == n
        assert float(line["% low (1 or 2)"]) == round(100 * expected.estimate, 1)
        assert float(line["95% interval from"]) == round(100 * expected.lower, 1)
        assert float(line["95% interval to"]) == round(100 * expected.upper, 1)
    # The chart says the same: one tooltip per month with the same figures.
    chart = re.search(r'<svg[^>]*id="activation-low".*?</svg>', page, re.S).group(0)
    assert chart.count('class="estimate"') == 12
    assert 'role="img"' in chart and "<desc" in chart
    assert "style=" not in page


def test_sites_and_channels_are_analysis_figures(session, client, login, riverside):
    by_site: dict[str, Counter[int]] = defaultdict(Counter)
    by_channel: dict[str, Counter[int]] = defaultdict(Counter)
    for rating, code in rating_rows(session, riverside):
        by_site[code][rating.rating] += 1
        by_channel[rating.channel][rating.rating] += 1
    sign_in(client, login)
    page = client.get(PAGE).get_data(as_text=True)
    for table_id, groups in (("sites-table", by_site), ("channels-table", by_channel)):
        fragment = table(page, table_id)
        for key, by_rating in groups.items():
            summary = activation_from_counts([by_rating[k] for k in (1, 2, 3, 4)])
            low = summary.low_activation
            assert (f"{summary.n} {pct(low.estimate)} 95% interval {pct(low.lower)} to "
                    f"{pct(low.upper)} {summary.mean:.2f}") in text_of(
                        row(fragment, "data-group", key))


def test_the_paired_section_tells_the_real_rise_from_regression_to_the_mean(
        session, client, login, riverside):
    sign_in(client, login)
    page = client.get(PAGE).get_data(as_text=True)
    by_site = {site: verdict for verdict, site in re.findall(
        r'data-verdict="([a-z_]+)" data-site="([A-Z]+|all)"', page)}
    assert by_site[GROUP_SITE] == "rose"
    assert by_site[STEADY_SITE] == "regression_to_the_mean"

    def verdict(code: str) -> str:
        return re.search(rf'data-verdict="[a-z_]+" data-site="{code}">(.*?)</li>', page,
                         re.S).group(1)

    hub, steady = verdict(GROUP_SITE), verdict(STEADY_SITE)
    assert "Riverside Community Hub" in hub and "Activation rose" in text_of(hub)
    assert "not regression to the mean" in text_of(hub)
    steady_words = text_of(steady)
    assert "Riverside Medical Practice" in steady_words
    assert "Patients first rated low tend to score higher next time anyway" in steady_words
    assert "regression to the mean" in steady_words
    assert "Beware regression to the mean" in page

    # The paired figures are analysis/'s, from the pseudonymised rows of each site,
    # comparing the latest six months with the six before.
    rows = rating_rows(session, riverside)
    months = sorted({(r.rated_on.year, r.rated_on.month) for r, _ in rows})
    earlier, later = set(months[-12:-6]), set(months[-6:])
    for code in (GROUP_SITE, STEADY_SITE):
        ratings, patients, periods = [], [], []
        for rating, site_code in rows:
            month = (rating.rated_on.year, rating.rated_on.month)
            if site_code == code and rating.patient_pseudonym and month in earlier | later:
                ratings.append(rating.rating)
                patients.append(rating.patient_pseudonym)
                periods.append("earlier" if month in earlier else "later")
        expected = paired_activation_change(np.array(ratings), patients, periods,
                                            earlier="earlier", later="later")
        cells = text_of(row(table(page, "paired-table"), "data-site", code))
        def signed(value: float) -> str:
            return f"{value:+.2f}".replace("-", "\u2212")

        assert (f"{signed(expected.mean_change)} 95% interval {signed(expected.change_low)} "
                f"to {signed(expected.change_high)} {expected.n_pairs} patients; average "
                f"{expected.baseline_mean:.2f} then {expected.followup_mean:.2f}") in cells


def test_napc_figures_are_quoted_per_patient_with_their_source(client, login, riverside):
    sign_in(client, login)
    words = text_of(client.get(PAGE).get_data(as_text=True))
    assert ("The National Association of Primary Care (NAPC) reports that, per patient per "
            "year, a 1-point rise in activation goes with up to 4 fewer GP contacts and about "
            "£327 less demand") in words
    assert NAPC_FIGURES.source in words
    assert NAPC_FIGURES.caveat in words
    assert "Pulse has not measured any saving" in words


# --------------------------------------------------------------------------- suppression


def test_a_small_site_and_the_combination_that_would_isolate_a_group_are_hidden(
        app, session, client, login, riverside, make_site, add_ratings):
    on = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)  # last month
    small = make_site(code="RSM", int_slug=demo.INT_SLUG, kind="clinic")
    mixed = make_site(code="RSX", int_slug=demo.INT_SLUG, kind="pharmacy")
    add_ratings(small, [(on, "kiosk", 1), (on, "kiosk", 2), (on, "qr", 4)])
    # 2 kiosk ratings among 20 clinician ones: the kiosk cell is small, and the
    # clinician cell must go too, or it could be subtracted from the site's total.
    add_ratings(mixed, [(on, "clinician", 3)] * 20 + [(on, "kiosk", 1), (on, "kiosk", 4)])

    sign_in(client, login)
    page = client.get(PAGE).get_data(as_text=True)
    sites = text_of(row(table(page, "sites-table"), "data-group", "RSM"))
    assert sites == "Site RSM Hidden: too few answers Hidden: too few answers " \
                    "Hidden: too few answers"
    combos = table(page, "site-channel-table")
    mixed_row = row(combos, "data-site", "RSX")
    kiosk = re.search(r'data-cell="RSX/kiosk">(.*?)</td>', mixed_row, re.S).group(1)
    clinician = re.search(r'data-cell="RSX/clinician">(.*?)</td>', mixed_row, re.S).group(1)
    assert text_of(kiosk) == "Hidden: too few answers"
    assert text_of(clinician) == "Hidden: hidden to protect another group"
    # Nothing of the hidden groups is shown: not their counts, not a share.
    assert "20 ratings" not in text_of(mixed_row)

    rows = {r["Site"]: r for r in csv_rows(client, "sites")}
    assert rows["Site RSM"]["Ratings"] == "" and rows["Site RSM"]["% low (1 or 2)"] == ""
    assert rows["Site RSM"]["Hidden because"] == "too few answers"
    # RSM's 3 would be the INT's total minus the other sites: the smallest other goes too.
    assert rows["Site RSX"]["Ratings"] == ""
    assert rows["Site RSX"]["Hidden because"] == "hidden to protect another group"
    assert text_of(row(table(page, "sites-table"), "data-group", "RSX")).startswith(
        "Site RSX Hidden: hidden to protect another group")
    combos_csv = {(r["Site"], r["Channel"]): r for r in csv_rows(client, "site-channel")}
    kiosk_row = combos_csv[("Site RSX", "Waiting-room kiosk")]
    assert kiosk_row["Ratings"] == "" and kiosk_row["Hidden because"] == "too few answers"
    clinician_row = combos_csv[("Site RSX", "Entered by a clinician")]
    assert clinician_row["Ratings"] == ""
    assert clinician_row["Hidden because"] == "hidden to protect another group"
    assert clinician_row["Mean rating"] == ""

    # Filtered to kiosks, the by-site table is the same cells, hidden the same way.
    kiosk_sites = {r["Site"]: r for r in csv_rows(client, "sites", channel="kiosk")}
    assert kiosk_sites["Site RSX"]["Hidden because"] == "too few answers"


def test_a_filter_cannot_be_subtracted_from_the_whole_to_reveal_a_small_group(
        app, session, client, login, make_site, make_user, add_ratings):
    big = make_site(code="BIG", int_slug="small-int")
    tiny = make_site(code="TNY", int_slug="small-int")
    add_ratings(big, [(date(2025, 1, 10), "clinician", 1 + i % 4) for i in range(30)]
                + [(date(2025, 2, 10), "clinician", 1 + i % 4) for i in range(30)])
    add_ratings(tiny, [(date(2025, 1, 12), "clinician", 1), (date(2025, 1, 13), "kiosk", 2)]
                + [(date(2025, 2, 12), "clinician", 3)] * 8)
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == "small-int")).one()

    whole = activation_report(session, neighbourhood=neighbourhood, threshold=5, today=TODAY)
    assert [m.n for m in whole.months] == [32, 38]
    report = activation_report(session, neighbourhood=neighbourhood, threshold=5, today=TODAY,
                               filters=Filters(site="BIG"))
    # January at BIG alone (30) would give the tiny site's 2 ratings as 32 - 30.
    january, february = report.months
    assert january.n is None and january.hidden_reason == "hidden to protect another group"
    # Nor can January be had as BIG's total minus February.
    assert february.n is None or report.total.n is None
    tiny_only = activation_report(session, neighbourhood=neighbourhood, threshold=5, today=TODAY,
                                  filters=Filters(site="TNY"))
    assert tiny_only.months[0].hidden_reason == "too few answers"
    assert tiny_only.months[1].n is None  # else TNY's total minus February gives January

    make_user("lead", email="lead@small.test", ints=("small-int",))
    assert login(client, "lead@small.test").status_code == 302
    page = client.get("/reports/small-int/activation?site=BIG").get_data(as_text=True)
    january_row = text_of(row(table(page, "low-table"), "data-month", "2025-01"))
    assert january_row == "Jan 2025 Hidden: hidden to protect another group " \
                          "Hidden: hidden to protect another group"
    downloaded = list(csv.DictReader(io.StringIO(client.get(
        "/reports/small-int/activation/distribution.csv?site=BIG").get_data(as_text=True))))
    assert downloaded[0]["Month"] == "Jan 2025" and downloaded[0]["Ratings"] == ""
    assert downloaded[0]["Hidden because"] == "hidden to protect another group"


def test_a_hidden_month_cannot_be_worked_out_from_its_period_s_total(session, make_site,
                                                                     add_ratings):
    site = make_site(code="ONE", int_slug="one-int")
    sizes = [40, 40, 40, 40, 40, 3, 20, 40, 40, 40, 40, 40]  # Jan to Dec 2025
    add_ratings(site, [(date(2025, month, 5), "clinician", 1 + i % 4)
                       for month, size in enumerate(sizes, start=1) for i in range(size)])
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == "one-int")).one()
    report = activation_report(session, neighbourhood=neighbourhood, threshold=5, today=TODAY)
    assert report.months[5].hidden_reason == "too few answers"
    # The page shows January to June's total (203) in the period table: June's 3
    # must not be that total minus the months shown.
    [period, _all] = report.periods
    assert period.earlier.n == 203
    earlier_hidden = [m for m in report.months[:6] if m.n is None]
    assert len(earlier_hidden) >= 2
    assert sum(sizes[i] for i, m in enumerate(report.months[:6]) if m.n is None) >= 5 + 3


def _paired_by_site(report):
    return {row.site.code if row.site else "all": row for row in report.paired}


def test_paired_change_under_a_channel_filter_cannot_be_subtracted_from_the_whole(
        session, make_site, add_ratings):
    site = make_site(code="PRD", int_slug="paired-int")
    # 20 patients rated by a clinician in January and again in February, half
    # starting low; 2 more rated at the kiosk both times. Without the channel
    # filter there are 22 pairs, with it 20: the kiosk's 2 patients (and how
    # their activation changed) would be the difference.
    clinician = [(date(2025, month, 10), "clinician", rating, patient)
                 for patient in range(20) for month, rating in
                 ((1, 1 if patient < 10 else 3), (2, 2 if patient < 10 else 4))]
    kiosk = [(date(2025, month, 11), "kiosk", rating, 100 + patient)
             for patient in range(2) for month, rating in ((1, 1), (2, 4))]
    add_ratings(site, clinician + kiosk)
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == "paired-int")).one()

    whole = _paired_by_site(activation_report(session, neighbourhood=neighbourhood,
                                              threshold=5, today=TODAY))
    assert whole["PRD"].pairs == whole["all"].pairs == 22
    for filters in (Filters(channel="clinician"), Filters(site="PRD", channel="clinician")):
        narrowed = _paired_by_site(activation_report(session, neighbourhood=neighbourhood,
                                                     threshold=5, today=TODAY, filters=filters))
        for key, row in narrowed.items():
            # 22 - 20 = 2 < 5: either side may show, never both.
            assert row.pairs is None or whole[key].pairs is None, (filters, key)
            assert row.change is None and row.started_low is None
            assert row.started_low_pairs is None and row.started_higher_pairs is None
            assert row.hidden_reason == "hidden to protect another group"
            assert row.verdict == "too_few"


def test_paired_change_at_one_site_is_hidden_as_in_the_whole_int(session, make_site,
                                                                  add_ratings):
    big = make_site(code="BGP", int_slug="pairs-int")
    tiny = make_site(code="TNP", int_slug="pairs-int")
    add_ratings(big, [(date(2025, month, 10), "clinician", 1 + (patient + month) % 4, patient)
                      for patient in range(20) for month in (1, 2)])
    add_ratings(tiny, [(date(2025, month, 10), "clinician", 2, 100 + patient)
                       for patient in range(2) for month in (1, 2)])
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == "pairs-int")).one()

    whole = _paired_by_site(activation_report(session, neighbourhood=neighbourhood,
                                              threshold=5, today=TODAY))
    assert whole["TNP"].pairs is None and whole["TNP"].hidden_reason == "too few answers"
    # BGP's 20 next to the pooled 22 would give TNP's 2, so one of them is hidden...
    assert whole["BGP"].pairs is None or whole["all"].pairs is None
    # ... and opening BGP alone shows no more than the whole INT does.
    [alone] = activation_report(session, neighbourhood=neighbourhood, threshold=5, today=TODAY,
                                filters=Filters(site="BGP")).paired
    assert alone.pairs == whole["BGP"].pairs
    assert alone.hidden_reason == whole["BGP"].hidden_reason
    assert alone.change == whole["BGP"].change


def test_site_names_cannot_run_as_formulas_in_the_csv(session, client, login, riverside,
                                                      make_site, add_ratings):
    site = make_site(code="EVIL", int_slug=demo.INT_SLUG)
    site.name = "=HYPERLINK(\"http://x.test\")"
    session.add(site)
    session.commit()
    add_ratings(site, [(date.today(), "clinician", 3)] * 6)
    sign_in(client, login)
    text = client.get(f"{PAGE}/sites.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


# --------------------------------------------------------------------------- the page


def test_filters_narrow_every_table_and_bad_ones_are_explained(client, login, riverside):
    sign_in(client, login)
    page = client.get(PAGE, query_string={"site": GROUP_SITE, "channel": "clinician"})
    text = text_of(page.get_data(as_text=True))
    assert "Showing: Riverside Community Hub, entered by a clinician" in text
    assert 'data-group="RMP"' not in page.get_data(as_text=True)
    rows = csv_rows(client, "sites", site=GROUP_SITE, channel="clinician")
    assert [r["Site"] for r in rows] == ["Riverside Community Hub"]

    bad = client.get(PAGE, query_string={"site": "NOPE"}).get_data(as_text=True)
    assert "There is a problem" in bad and "Choose a site from the list" in bad
    assert "Showing: <strong>all sites and channels</strong>" in bad
    refused = client.get(f"{PAGE}/sites.csv", query_string={"channel": "fax"})
    assert refused.status_code == 400 and b"Choose a channel" in refused.data


def test_views_and_downloads_are_audited_and_only_admins_see_fhir_links(
        app, session, client, login, riverside):
    sign_in(client, login)
    assert "fhir" not in client.get(PAGE).get_data(as_text=True).lower()
    client.get(f"{PAGE}/paired.csv")
    actions = [e.action for e in session.exec(select(AuditEvent).where(
        AuditEvent.target == f"activation:{demo.INT_SLUG}"))]
    assert actions == ["report.view", "report.csv"]
    admin = app.test_client()
    sign_in(admin, login, ADMIN)
    page = admin.get(PAGE).get_data(as_text=True)
    assert f'href="/reports/{demo.INT_SLUG}/activation/fhir/bundle.json"' in page
    assert 'href="/reports/fhir/questionnaire.json"' in page


def test_the_page_prints_as_a_pdf(client, login, riverside):
    sign_in(client, login)
    response = client.get(PAGE, query_string={"format": "pdf", "site": GROUP_SITE})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


@pytest.mark.parametrize("path", [PAGE, f"{PAGE}/site-channel.csv"])
def test_only_the_int_s_leads_and_admins_may_look(app, session, login, make_user, make_team,
                                                  riverside, path):
    make_team(slug="community", int_slug="other-int")
    make_user("lead", email="lead-b@example.test", ints=("other-int",))
    allowed = {LEAD: 200, ADMIN: 200, f"recorder@{demo.EMAIL_DOMAIN}": 403,
               "lead-b@example.test": 403}
    for email, status in allowed.items():
        client = app.test_client()
        password = PASSWORD if email.endswith("example.test") else DEMO_PASSWORD
        assert login(client, email, password=password).status_code == 302
        response = client.get(path)
        assert response.status_code == status, email
        if status == 403:
            assert b"Riverside Community Hub" not in response.data
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# --------------------------------------------------------------------------- the charts

SVG = "{http://www.w3.org/2000/svg}"


def test_the_distribution_chart_marks_low_ratings_by_hatching_not_colour_alone():
    import xml.etree.ElementTree as ET

    from survey_app.reporting.charts.bars import distribution_svg

    svg = distribution_svg(
        title="Ratings", description="By month.", labels=["Jan 2025", "Feb 2025", "Mar 2025"],
        counts=[(1, 2, 3, 4), None, (0, 0, 0, 0)], rating_names=["Not very", "Okay", "Good",
                                                                 "Excellent"],
        hidden_reasons=[None, "too few answers", None])
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and "style" not in svg
    assert root.find(f"{SVG}title").text == "Ratings"
    segments = [e for e in root.iter() if "segment" in (e.get("class") or "").split()]
    assert [e.find(f"{SVG}title").text for e in segments] == [
        "Jan 2025: 1 Not very, 1 of 10 (10%)", "Jan 2025: 2 Okay, 2 of 10 (20%)",
        "Jan 2025: 3 Good, 3 of 10 (30%)", "Jan 2025: 4 Excellent, 4 of 10 (40%)"]
    hatches = [e for e in root.iter() if e.get("class") == "segment-hatch"]
    assert len(hatches) == 2  # ratings 1 and 2 only
    gaps = [e.find(f"{SVG}title").text for e in root.iter()
            if e.get("class") == "hidden-month" and e.find(f"{SVG}title") is not None]
    assert gaps[:2] == ["Feb 2025: hidden, too few answers", "Mar 2025: no ratings"]
    legend = " ".join(e.text or "" for e in root.iter(f"{SVG}text"))
    assert "1 Not very (low, hatched)" in legend and "4 Excellent" in legend
    with pytest.raises(ValueError, match="counts\\[0\\] must be four counts"):
        distribution_svg(title="t", description="d", labels=["a"], counts=[(1, 2)],
                         rating_names=["a", "b", "c", "d"])


def test_the_interval_chart_draws_each_estimate_with_its_whisker():
    import xml.etree.ElementTree as ET

    from survey_app.reporting.charts.bars import Interval, interval_svg

    svg = interval_svg(title="Low", description="Share low.", labels=["Jan", "Feb"],
                       values=[Interval(40.0, 30.0, 50.0), None], value_name="share rated low",
                       hidden_reasons=[None, "hidden to protect another group"])
    root = ET.fromstring(svg)
    [estimate] = [e for e in root.iter() if e.get("class") == "estimate"]
    assert estimate.find(f"{SVG}title").text == (
        "Jan: share rated low 40%, interval 30% to 50%")
    whisker = next(e for e in estimate if e.get("class") == "whisker")
    point = next(e for e in estimate if e.get("class") == "point")
    assert float(whisker.get("y1")) > float(point.get("cy")) > float(whisker.get("y2"))
    assert "Feb: hidden, hidden to protect another group" in svg
    with pytest.raises(ValueError, match="lower <= estimate <= upper"):
        interval_svg(title="t", description="d", labels=["a"],
                     values=[Interval(60.0, 30.0, 50.0)], value_name="x")
