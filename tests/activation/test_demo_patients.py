"""The demo's patient story: a real rise at the hub, regression to the mean at the practice."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlmodel import col, select

from analysis.activation import paired_activation_change
from survey_app.demo.patients import GROUP_SITE, STEADY_SITE
from survey_app.models import ActivationRating, Site, User


def _ratings_by_half(session, code):
    site = session.exec(select(Site).where(Site.code == code)).one()
    rows = session.exec(select(ActivationRating).where(ActivationRating.site_id == site.id)
                        .order_by(col(ActivationRating.rated_on))).all()
    months = sorted({(r.rated_on.year, r.rated_on.month) for r in rows})
    second_half = set(months[6:])
    halves = defaultdict(list)
    for r in rows:
        halves[(r.rated_on.year, r.rated_on.month) in second_half].append(r)
    return halves[False], halves[True]


def _paired(first, second):
    ratings, patients, periods = [], [], []
    for period, rows in ((0, first), (1, second)):
        for r in rows:
            if r.patient_pseudonym:
                ratings.append(r.rating)
                patients.append(r.patient_pseudonym)
                periods.append(period)
    return paired_activation_change(np.array(ratings), np.array(patients), np.array(periods),
                                    earlier=0, later=1)


def test_demo_tells_a_real_rise_apart_from_regression_to_the_mean(app, session, riverside):
    hub_first, hub_second = _ratings_by_half(session, GROUP_SITE)
    steady_first, steady_second = _ratings_by_half(session, STEADY_SITE)

    def mean(rows):
        return sum(r.rating for r in rows) / len(rows)

    assert mean(hub_second) - mean(hub_first) > 0.25
    assert abs(mean(steady_second) - mean(steady_first)) < 0.15
    hub = _paired(hub_first, hub_second)
    steady = _paired(steady_first, steady_second)
    assert hub.n_pairs >= 20 and steady.n_pairs >= 20
    assert hub.mean_change > steady.mean_change + 0.2
    # Patients who started low at the unchanged practice still "improve" on average:
    # regression to the mean, which the report must not read as a real change.
    first_rating = {}
    for r in steady_first:
        if r.patient_pseudonym:
            first_rating.setdefault(r.patient_pseudonym, r.rating)
    last_rating = {r.patient_pseudonym: r.rating for r in steady_second if r.patient_pseudonym}
    low = [last_rating[p] - first_rating[p] for p in first_rating
           if p in last_rating and first_rating[p] <= 2]
    assert len(low) >= 10 and sum(low) / len(low) > 0.2
    assert steady.regression_to_mean_caution or steady.baseline_low_share > 0.3
    # No NHS number is stored anywhere: pseudonyms only.
    assert all(len(r.patient_pseudonym) == 64 for r in steady_first if r.patient_pseudonym)
    assert {u.role for u in session.exec(select(User))} == {"recorder", "lead", "admin"}
