"""The activation endpoint: activation_report's figures and suppression, as documented."""

from __future__ import annotations

from datetime import date

from survey_app.activation.ratings import RatingInput, record_activation
from survey_app.core.clock import local_date, utcnow
from survey_app.models import Neighbourhood
from survey_app.reporting import activation_report
from tests.api.conftest import PREFIX, bearer

ACTIVATION = "/ints/{int_slug}/activation"


def _groups(body):
    """Every rating group in a response, with where it sits."""
    yield "total", body["total"]
    if body["month_in_progress"] is not None:
        yield "month_in_progress", body["month_in_progress"]
    for name in ("months", "by_site", "by_channel"):
        for group in body[name]:
            yield f"{name}:{group['key']}", group
    for row in body["site_channel"]:
        for cell in row["cells"]:
            yield f"site_channel:{row['site']['code']}/{cell['channel']}", cell["group"]
    for row in body["periods"]["rows"]:
        code = row["site"]["code"] if row["site"] else "all"
        yield f"earlier:{code}", row["earlier"]
        yield f"later:{code}", row["later"]


def _report_groups(report):
    yield "total", report.total
    if report.month_in_progress is not None:
        yield "month_in_progress", report.month_in_progress
    for name, groups in (("months", report.months), ("by_site", report.by_site),
                         ("by_channel", report.by_channel)):
        for group in groups:
            yield f"{name}:{group.key}", group
    for site, cells in zip(report.site_channel.sites, report.site_channel.cells, strict=True):
        for channel, cell in zip(report.site_channel.channels, cells, strict=True):
            yield f"site_channel:{site.code}/{channel}", cell
    for row in report.periods:
        code = row.site.code if row.site else "all"
        yield f"earlier:{code}", row.earlier
        yield f"later:{code}", row.later


def _assert_same(body, report):
    ours = dict(_groups(body))
    theirs = dict(_report_groups(report))
    assert ours.keys() == theirs.keys()
    for key, group in theirs.items():
        entry = ours[key]
        assert entry["hidden_reason"] == group.hidden_reason, key
        assert entry["n"] == group.n, key
        if group.summary is None:
            assert entry["counts"] is None and entry["low_activation"] is None, key
        else:
            low = group.summary.low_activation
            assert entry["counts"] == [int(c) for c in group.summary.counts], key
            assert entry["low_activation"]["percent"] == 100 * low.estimate, key
            assert (entry["low_activation"]["lower"], entry["low_activation"]["upper"]) == (
                100 * low.lower, 100 * low.upper), key
            assert entry["mean"] == group.summary.mean, key
    assert [(row["verdict"], row["sentence"], row["all"]["pairs"]) for row in body["paired"]] \
        == [(row.verdict, row.sentence, row.pairs) for row in report.paired]


def test_the_demo_s_activation_is_activation_report_s(app, client, session, world,
                                                      issue_token, conforms):
    token = issue_token(world.lead)
    report = activation_report.activation_report(session, neighbourhood=world.neighbourhood,
                                                 threshold=5, today=local_date(utcnow()))
    response = client.get(PREFIX + ACTIVATION.format(int_slug=world.neighbourhood.slug),
                          headers=bearer(token))
    assert response.status_code == 200
    conforms(response, ACTIVATION)
    body = response.get_json()
    _assert_same(body, report)
    assert body["napc"]["source"] == report.napc.source
    # The demo's story: one site's rise is real, the others' regression to the mean.
    verdicts = {row["site"]["code"]: row["verdict"] for row in body["paired"] if row["site"]}
    assert "rose" in verdicts.values() and "regression_to_the_mean" in verdicts.values()
    # A filter narrows every table the same way the page does.
    site = report.sites[0].code
    filtered = client.get(PREFIX + ACTIVATION.format(int_slug=world.neighbourhood.slug),
                          query_string={"site": site, "channel": "kiosk"},
                          headers=bearer(token))
    conforms(filtered, ACTIVATION)
    assert filtered.get_json()["filters"] == {"site": site, "channel": "kiosk"}
    _assert_same(filtered.get_json(), activation_report.activation_report(
        session, neighbourhood=world.neighbourhood, threshold=5, today=local_date(utcnow()),
        filters=activation_report.Filters(site=site, channel="kiosk")))


def test_small_activation_groups_come_back_null_with_the_reason(app, client, session,
                                                                make_site, make_user,
                                                                issue_token, conforms):
    instrument = app.extensions["pulse_instruments"]["patient-activation"]
    small, large = make_site("AAA"), make_site("BBB")
    for index, (site, channel) in enumerate([(small, "clinician")] * 3
                                            + [(large, "clinician")] * 12
                                            + [(large, "kiosk")] * 9):
        record_activation(session, entry=RatingInput(
            site=site, channel=channel, rating=1 + index % 4, on=date(2026, 3, 2),
            idempotency_key=f"test-{index}"), instrument=instrument, pseudonym_key=None,
            user_id=None, now=utcnow())
    session.commit()
    token = issue_token(make_user("lead", email="lead-t@example.test", ints=("test-int",)))
    response = client.get(PREFIX + ACTIVATION.format(int_slug="test-int"),
                          headers=bearer(token))
    conforms(response, ACTIVATION)
    body = response.get_json()
    by_site = {group["key"]: group for group in body["by_site"]}
    hidden = [g for g in by_site.values() if g["hidden_reason"] is not None]
    # The site with 3 ratings, and (the INT's total being shown) the other site too,
    # or its count would give the small one away by subtraction.
    assert sorted(g["hidden_reason"] for g in hidden) == [
        "hidden to protect another group", "too few answers"]
    assert all(g["n"] is None and g["counts"] is None and g["low_activation"] is None
               for g in hidden)
    assert body["total"]["n"] == 24
    _assert_same(body, activation_report.activation_report(
        session, neighbourhood=session.get(Neighbourhood, small.neighbourhood_id), threshold=5,
        today=local_date(utcnow())))


def test_an_unknown_site_or_channel_is_a_documented_400(client, world, issue_token, conforms):
    token = issue_token(world.lead)
    for query in ({"site": "NOPE"}, {"channel": "carrier-pigeon"}):
        response = client.get(PREFIX + ACTIVATION.format(int_slug=world.neighbourhood.slug),
                              query_string=query, headers=bearer(token))
        assert response.status_code == 400, query
        conforms(response, ACTIVATION)


def test_the_month_in_progress_comes_apart_from_the_months(app, client, session, make_site,
                                                           make_user, issue_token, conforms):
    instrument = app.extensions["pulse_instruments"]["patient-activation"]
    site = make_site("MIP")
    today = local_date(utcnow())
    for index, on in enumerate([date(2026, 3, 2)] * 8 + [today] * 6):
        record_activation(session, entry=RatingInput(
            site=site, channel="clinician", rating=1 + index % 4, on=on,
            idempotency_key=f"month-{index}"), instrument=instrument, pseudonym_key=None,
            user_id=None, now=utcnow())
    session.commit()
    token = issue_token(make_user("lead", email="lead-m@example.test", ints=("test-int",)))
    response = client.get(PREFIX + ACTIVATION.format(int_slug="test-int"),
                          headers=bearer(token))
    conforms(response, ACTIVATION)
    body = response.get_json()
    assert body["month_in_progress"]["key"] == f"{today:%Y-%m}"
    assert body["month_in_progress"]["n"] == 6
    assert body["months"][0]["key"] == "2026-03" and body["months"][0]["n"] == 8
    assert f"{today:%Y-%m}" not in [month["key"] for month in body["months"]]
    assert body["total"]["n"] == 8  # the month so far is in no total
