"""Enrolling a kiosk asks for a site and a name unique in the INT; /admin/kiosks shows
where each tablet is, when it was enrolled and when it last took a rating; and a kiosk
step left past PULSE_KIOSK_TIMEOUT_SECONDS starts again on its next tap (no JavaScript
needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import select

from survey_app.activation import sites
from survey_app.core.clock import utcnow
from survey_app.core.config import load_settings
from survey_app.core.config_error import ConfigError
from survey_app.models import ActivationRating, ExperienceRating, Kiosk


def _enrol_page(client, login, hidden_fields):
    login(client, "admin@example.test")
    page = client.get("/kiosk/enrol")
    assert page.status_code == 200
    return page, hidden_fields(page.data)


def _kiosks(session):
    session.expire_all()
    return session.exec(select(Kiosk)).all()


def test_enrolling_with_nothing_changed_asks_for_a_site_and_a_name(
        client, session, make_site, make_user, login, hidden_fields):
    make_site("RMP")
    make_site("HUB")
    make_user("admin")
    page, fields = _enrol_page(client, login, hidden_fields)
    html = page.data.decode()
    # No site preselected: the placeholder comes first and nothing is selected.
    assert ('<select class="nhsuk-select" id="site" name="site">\n'
            '<option value="">Choose a site') in html
    assert " selected" not in html
    assert 'value="Waiting-room tablet"' not in html
    # What the browser sends for the untouched form: the placeholder and an empty name.
    result = client.post("/kiosk/enrol", data={**fields, "site": "", "name": "",
                                               "ask_experience": "y"})
    assert result.status_code == 400
    body = result.data.decode()
    assert "Choose the site this tablet is at" in body
    assert "Enter a name for this tablet" in body
    assert 'href="#site"' in body and 'href="#name"' in body  # in the error summary
    assert _kiosks(session) == []
    assert "pulse_kiosk" not in result.headers.get("Set-Cookie", "")


def test_a_name_must_be_unique_among_the_ints_active_kiosks(
        client, session, make_site, make_user, login, hidden_fields):
    rmp, hub = make_site("RMP"), make_site("HUB")
    other = make_site("OTH", int_slug="other-int")
    sites.enrol_kiosk(session, site=rmp, name="Waiting-room tablet", ask_experience=True,
                      now=utcnow())
    revoked, _ = sites.enrol_kiosk(session, site=rmp, name="Old tablet", ask_experience=True,
                                   now=utcnow())
    revoked.revoked_at = utcnow()
    sites.enrol_kiosk(session, site=other, name="Front desk", ask_experience=True, now=utcnow())
    session.commit()
    make_user("admin")
    _, fields = _enrol_page(client, login, hidden_fields)

    # Same INT, another site, differing only in case and spaces: refused.
    taken = client.post("/kiosk/enrol", data={**fields, "site": "HUB",
                                              "name": "  waiting-room   TABLET "})
    assert taken.status_code == 400
    assert "already has an active kiosk called" in taken.data.decode()
    assert len(_kiosks(session)) == 3

    # A revoked tablet's name is free again, and so is a name used only in another INT.
    for name in ("Old tablet", "Front desk"):
        login(client, "admin@example.test")
        fields = hidden_fields(client.get("/kiosk/enrol").data)
        enrolled = client.post("/kiosk/enrol", data={**fields, "site": hub.code, "name": name})
        assert enrolled.status_code == 302, enrolled.data
    assert sorted(k.name for k in _kiosks(session) if k.site_id == hub.id) == [
        "Front desk", "Old tablet"]


def test_the_kiosks_page_shows_site_name_enrolled_and_last_used_dates(
        client, session, make_site, make_user, login, hidden_fields):
    rmp = make_site("RMP")
    enrolled = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    sites.enrol_kiosk(session, site=rmp, name="Reception tablet", ask_experience=False,
                      now=enrolled)
    session.commit()
    make_user("admin")
    login(client, "admin@example.test")
    page = client.get("/admin/kiosks").data.decode()
    assert "Reception tablet" in page and "Site RMP" in page
    assert "4 December 2026" in page and "Last used" in page and "Not used yet" in page

    # The tablet takes a rating: its last use is recorded, as a date only.
    kiosk_client = client.application.test_client()
    login(kiosk_client, "admin@example.test")
    fields = hidden_fields(kiosk_client.get("/kiosk/enrol").data)
    kiosk_client.post("/kiosk/enrol", data={**fields, "site": "RMP", "name": "Tablet 2"})
    used = datetime(2027, 6, 9, 23, 30, tzinfo=UTC)  # already 10 June in London (BST)
    with mock.patch("survey_app.activation.patient_views.utcnow", return_value=used):
        rate = kiosk_client.get("/kiosk")
        kiosk_client.post("/kiosk", data={**hidden_fields(rate.data), "rating": "3"})
    [tablet] = [k for k in _kiosks(session) if k.name == "Tablet 2"]
    assert tablet.last_used_on.isoformat() == "2027-06-10"
    page = client.get("/admin/kiosks").data.decode()
    assert "10 June 2027" in page


# --- a kiosk step left too long starts again (server-side, without JavaScript) --------



def _at(moment):
    return mock.patch("survey_app.activation.patient_views.utcnow", return_value=moment)


@pytest.mark.parametrize("tap", [{"answer": "very_good"}, {"skip": "1"}])
def test_a_tap_on_an_abandoned_follow_up_question_starts_again(kiosk, session, hidden_fields,
                                                               tap):
    shown = utcnow()
    with _at(shown):
        page = kiosk.get("/kiosk")
        kiosk.post("/kiosk", data={**hidden_fields(page.data), "rating": "4"})
        question = kiosk.get("/kiosk/experience")
    html = question.data.decode()
    assert 'href="/kiosk"' in html and "New patient" in html  # works without JavaScript
    assert 'http-equiv="refresh"' not in html

    # The next person taps 61 seconds after the question was shown: nothing is stored,
    # and the kiosk goes back to the first question, saying why.
    with _at(shown + timedelta(seconds=61)):
        late = kiosk.post("/kiosk/experience", data={**hidden_fields(question.data), **tap})
        assert late.status_code == 302 and late.headers["Location"] == "/kiosk"
        start = kiosk.get("/kiosk").data.decode()
    assert session.exec(select(ExperienceRating)).all() == []
    assert "started again" in start and "How good are you at taking care" in start
    assert "Thank you" not in start and "checked" not in start
    # The follow-up question is gone with the previous patient; the explanation is shown once.
    assert kiosk.get("/kiosk/experience").headers["Location"] == "/kiosk"
    assert "started again" not in kiosk.get("/kiosk").data.decode()
    assert len(session.exec(select(ActivationRating)).all()) == 1


def test_a_tap_within_the_timeout_is_stored(kiosk, session, hidden_fields):
    shown = utcnow()
    with _at(shown):
        page = kiosk.get("/kiosk")
        kiosk.post("/kiosk", data={**hidden_fields(page.data), "rating": "2"})
        question = kiosk.get("/kiosk/experience")
    with _at(shown + timedelta(seconds=59)):
        answered = kiosk.post("/kiosk/experience",
                              data={**hidden_fields(question.data), "answer": "good"})
    assert answered.headers["Location"] == "/kiosk/thanks"
    [experience] = session.exec(select(ExperienceRating)).all()
    assert experience.answer == "good"


def test_the_first_question_never_expires(kiosk, session, hidden_fields):
    # It waits for the next patient for hours: their tap is always stored.
    page = kiosk.get("/kiosk")
    with _at(utcnow() + timedelta(hours=5)):
        result = kiosk.post("/kiosk", data={**hidden_fields(page.data), "rating": "3"})
    assert result.headers["Location"] == "/kiosk/experience"
    assert len(session.exec(select(ActivationRating)).all()) == 1


@pytest.mark.parametrize("app_config", [{"PULSE_KIOSK_TIMEOUT_SECONDS": 90}])
def test_the_timeout_is_a_setting(kiosk, session, hidden_fields, app_config):
    shown = utcnow()
    with _at(shown):
        page = kiosk.get("/kiosk")
        kiosk.post("/kiosk", data={**hidden_fields(page.data), "rating": "2"})
        question = kiosk.get("/kiosk/experience")
    assert 'data-kiosk-timeout="90"' in question.data.decode()
    with _at(shown + timedelta(seconds=75)):
        kiosk.post("/kiosk/experience", data={**hidden_fields(question.data), "answer": "good"})
    assert len(session.exec(select(ExperienceRating)).all()) == 1


def test_the_timeout_setting_defaults_to_a_minute_and_is_checked(tmp_path):
    assert load_settings(str(tmp_path), environ={})["PULSE_KIOSK_TIMEOUT_SECONDS"] == 60
    assert load_settings(str(tmp_path), environ={"PULSE_KIOSK_TIMEOUT_SECONDS": "120"})[
        "PULSE_KIOSK_TIMEOUT_SECONDS"] == 120
    with pytest.raises(ConfigError, match="at least 30"):
        load_settings(str(tmp_path), environ={"PULSE_KIOSK_TIMEOUT_SECONDS": "10"})
