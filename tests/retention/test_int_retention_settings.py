"""Each INT's retention periods, set on its settings page: whole days within limits, and
rules between them, each broken one with its message beside its box."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlmodel import select

from survey_app.core.retention_policy import KINDS
from survey_app.models import AuditEvent, Neighbourhood

pytestmark = pytest.mark.db

PAGE = "/admin/ints/test-int"
SETTINGS = {"invitation_gap_days": "21", "max_messages_per_wave": "2",
            "action_stages": "Plan,Do,Study,Act"}
DEFAULTS = {kind.column: str(kind.default_days) for kind in KINDS}


@pytest.fixture
def admin(client, login, make_user, make_team):
    make_team()
    make_user("admin", email="admin@example.test")
    login(client, "admin@example.test")
    return client


def _post(client, hidden_fields, **data):
    fields = hidden_fields(client.get(PAGE).data)
    return client.post(PAGE, data={**fields, **SETTINGS, **DEFAULTS, **data})


def _int(session) -> Neighbourhood:
    session.expire_all()
    return session.exec(select(Neighbourhood).where(Neighbourhood.slug == "test-int")).one()


def _error(html: str, field: str) -> str:
    match = re.search(rf'<span class="nhsuk-error-message" id="{field}-error">'
                      r'<span class="nhsuk-u-visually-hidden">Error:</span> (.*?)</span>', html)
    assert match, f"no error for {field}"
    return unescape(match.group(1))


def test_the_page_shows_each_period_with_its_default_in_words(admin):
    page = admin.get(PAGE).get_data(as_text=True)
    assert "How long data is kept" in page
    for kind in KINDS:
        assert f'name="{kind.column}" type="number" value="{kind.default_days}"' in page
    assert "The default is 730 days (2 years)." in page
    assert "The default is 3650 days (10 years)." in page


def test_an_admin_sets_the_periods_and_it_is_audited(admin, session, hidden_fields):
    chosen = {"retain_invitations_days": "60", "retain_messages_days": "30",
              "retain_comments_days": "180", "retain_answers_days": "365",
              "retain_aggregates_days": "1825", "retain_ratings_days": "730",
              "retain_leavers_days": "7"}
    response = _post(admin, hidden_fields, **chosen)
    assert response.status_code == 302
    neighbourhood = _int(session)
    assert {column: str(getattr(neighbourhood, column)) for column in chosen} == chosen
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "int.settings")).first()
    page = admin.get(PAGE).get_data(as_text=True)
    assert 'name="retain_answers_days" type="number" value="365"' in page


def test_a_form_without_the_period_boxes_keeps_the_periods(admin, session, hidden_fields):
    neighbourhood = _int(session)
    neighbourhood.retain_answers_days = 1000
    session.commit()
    fields = hidden_fields(admin.get(PAGE).data)
    assert admin.post(PAGE, data={**fields, **SETTINGS}).status_code == 302
    assert _int(session).retain_answers_days == 1000


BAD = {
    "empty": ("retain_leavers_days", "", "Enter a whole number of days, like 30"),
    "words": ("retain_leavers_days", "a month", "Enter a whole number of days, like 30"),
    "fraction": ("retain_messages_days", "1.5", "Enter a whole number of days, like 30"),
    "zero": ("retain_ratings_days", "0", "Choose between 1 and 7305 days"),
    "negative": ("retain_comments_days", "-5", "Choose between 1 and 7305 days"),
    "too-long": ("retain_aggregates_days", "7306", "Choose between 1 and 7305 days"),
    "huge": ("retain_aggregates_days", "9" * 40, "Choose between 1 and 7305 days"),
}


@pytest.mark.parametrize(("field", "value", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_period_gets_its_message_and_nothing_is_saved(admin, session, hidden_fields,
                                                            field, value, message):
    response = _post(admin, hidden_fields, **{field: value, "retain_answers_days": "700"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _error(page, field) == message
    assert f'href="#{field}"' in page  # the error summary links to the box
    assert _int(session).retain_answers_days == 730


RULES = {
    "answers-outlast-totals": (
        {"retain_answers_days": "4000"}, "retain_answers_days",
        "Keep individual answers no longer than the per-pulse totals (3650 days)"),
    "comments-outlast-answers": (
        {"retain_comments_days": "800"}, "retain_comments_days",
        "Keep comments no longer than the individual answers (730 days)"),
    "invitations-outlast-totals": (
        {"retain_invitations_days": "400", "retain_aggregates_days": "365",
         "retain_answers_days": "365", "retain_comments_days": "365"},
        "retain_invitations_days",
        "Keep invitations no longer than the per-pulse totals (365 days)"),
    "messages-outlast-totals": (
        {"retain_messages_days": "400", "retain_aggregates_days": "365",
         "retain_answers_days": "365", "retain_comments_days": "365"},
        "retain_messages_days", "Keep messages no longer than the per-pulse totals (365 days)"),
    "invitations-shorter-than-the-gap": (
        {"retain_invitations_days": "20"}, "retain_invitations_days",
        "Keep invitations at least as long as the fewest days between two invitations "
        "(21 days), or people could be asked again too soon"),
}


@pytest.mark.parametrize(("data", "field", "message"), RULES.values(), ids=RULES.keys())
def test_a_broken_rule_gets_its_message_beside_the_box(admin, session, hidden_fields, data,
                                                       field, message):
    response = _post(admin, hidden_fields, **data)
    assert response.status_code == 400
    assert _error(response.get_data(as_text=True), field) == message
    neighbourhood = _int(session)
    assert {kind.column: getattr(neighbourhood, kind.column) for kind in KINDS} == {
        kind.column: kind.default_days for kind in KINDS}
