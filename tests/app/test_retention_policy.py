"""The retention periods as the notices and the settings page word them."""

from __future__ import annotations

import pytest

from survey_app.core.retention_policy import KINDS, period_words, periods_for
from survey_app.models import Neighbourhood


@pytest.mark.parametrize(("days", "words"), [
    (1, "1 day"), (30, "1 month"), (31, "31 days"), (90, "3 months"), (365, "1 year"),
    (730, "2 years"), (1095, "3 years"), (3650, "10 years"), (400, "400 days"),
])
def test_a_period_in_the_plainest_exact_words(days, words):
    assert period_words(days) == words


def test_a_new_int_has_the_documented_defaults_in_order():
    periods = periods_for(Neighbourhood(slug="x", name="X"))
    assert [(p.kind.column, p.days) for p in periods] == [
        ("retain_invitations_days", 30), ("retain_messages_days", 90),
        ("retain_comments_days", 365), ("retain_answers_days", 730),
        ("retain_aggregates_days", 3650), ("retain_ratings_days", 1095),
        ("retain_leavers_days", 30)]
    assert [k.default_days for k in KINDS] == [p.days for p in periods]
    assert periods[3].words == "2 years after the pulse closes"
