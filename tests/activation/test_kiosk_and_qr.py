"""Patients rate themselves on an enrolled kiosk or by QR code on their own phone."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import ActivationRating, ExperienceRating, Kiosk


def _ratings(session, model=ActivationRating):
    session.expire_all()
    return session.exec(select(model)).all()



def _rate(client, path, hidden_fields, rating="3"):
    page = client.get(path)
    assert page.status_code == 200, page.data
    return client.post(path, data={**hidden_fields(page.data), "rating": rating})


def test_enrolling_signs_the_admin_out(kiosk):
    assert kiosk.get("/admin/users").status_code == 302  # back to sign-in


def test_a_kiosk_records_the_rating_then_the_fft_then_resets(kiosk, session, hidden_fields):
    result = _rate(kiosk, "/kiosk", hidden_fields, rating="4")
    assert result.headers["Location"] == "/kiosk/experience"
    [rating] = _ratings(session)
    assert (rating.rating, rating.channel, rating.patient_pseudonym) == (4, "kiosk", None)
    page = kiosk.get("/kiosk/experience")
    answered = kiosk.post("/kiosk/experience",
                          data={**hidden_fields(page.data), "answer": "very_good"})
    assert answered.headers["Location"] == "/kiosk/thanks"
    [experience] = _ratings(session, ExperienceRating)
    assert (experience.answer, experience.channel) == ("very_good", "kiosk")
    thanks = kiosk.get("/kiosk/thanks")
    html = thanks.data.decode()
    assert 'data-kiosk-reset="/kiosk" data-seconds="6"' in html and "js/kiosk.js" in html
    assert "New patient" in html and 'http-equiv="refresh"' not in html
    assert thanks.headers["Cache-Control"] == "no-store"
    # Back to the follow-up question: its one-time key is spent, so it starts over.
    assert kiosk.get("/kiosk/experience").headers["Location"] == "/kiosk"
    # The next patient sees a fresh question with nothing selected or shown.
    fresh = kiosk.get("/kiosk").data.decode()
    assert "Thank you" not in fresh and "Excellent" in fresh and "checked" not in fresh


def test_a_kiosk_double_tap_stores_one_rating(kiosk, session, hidden_fields):
    page = kiosk.get("/kiosk")
    data = {**hidden_fields(page.data), "rating": "2"}
    kiosk.post("/kiosk", data=data)
    kiosk.post("/kiosk", data=data)
    assert len(_ratings(session)) == 1


def test_skipping_the_fft_stores_no_experience(kiosk, session, hidden_fields):
    _rate(kiosk, "/kiosk", hidden_fields)
    page = kiosk.get("/kiosk/experience")
    kiosk.post("/kiosk/experience", data={**hidden_fields(page.data), "skip": "1"})
    assert _ratings(session, ExperienceRating) == []


def test_a_revoked_kiosk_is_refused_and_stores_nothing(kiosk, session, hidden_fields):
    page = kiosk.get("/kiosk")
    kiosk_row = session.exec(select(Kiosk)).one()
    kiosk_row.revoked_at = utcnow()
    session.add(kiosk_row)
    session.commit()
    result = kiosk.post("/kiosk", data={**hidden_fields(page.data), "rating": "3"})
    assert result.status_code == 403
    assert b"no longer enrolled" in result.data
    assert _ratings(session) == []


def test_a_kiosk_keeps_working_without_a_session(kiosk, session, hidden_fields):
    # Days later the session cookie is long gone; the device credential is enough.
    kiosk.delete_cookie("pulse_session")
    assert _rate(kiosk, "/kiosk", hidden_fields).status_code == 302
    assert len(_ratings(session)) == 1


def test_a_forged_or_missing_kiosk_cookie_is_refused(client, make_site):
    make_site("RMP")
    assert client.get("/kiosk").status_code == 403
    client.set_cookie("pulse_kiosk", "forged.value")
    response = client.get("/kiosk")
    assert response.status_code == 403 and b"not a kiosk" in response.data


def test_only_admins_enrol_kiosks(client, make_site, make_user, login):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    login(client, "recorder@example.test")
    assert client.get("/kiosk/enrol").status_code == 403


def test_a_phone_answers_once_a_day_by_qr(client, session, make_site, hidden_fields):
    make_site("RMP")
    result = _rate(client, "/q/rmp", hidden_fields, rating="1")
    assert result.headers["Location"] == "/q/RMP/experience"
    page = client.get("/q/RMP/experience")
    client.post("/q/RMP/experience", data={**hidden_fields(page.data), "skip": "1"})
    assert b"Thank you" in client.get("/q/RMP/thanks").data
    [rating] = _ratings(session)
    assert (rating.rating, rating.channel) == (1, "qr")
    again = client.get("/q/RMP")
    assert b"already answered today" in again.data
    # Even a replayed post of a fresh form stores nothing more today.
    client.post("/q/RMP", data={**hidden_fields(page.data), "rating": "4",
                                "idempotency_key": "f" * 32})
    assert len(_ratings(session)) == 1
    tomorrow = utcnow() + timedelta(days=1)
    with mock.patch("survey_app.activation.patient_views.utcnow", return_value=tomorrow):
        assert b"already answered" not in client.get("/q/RMP").data


def test_easy_read_shows_pictures_and_is_recorded(client, session, make_site, hidden_fields):
    make_site("RMP")
    page = client.get("/q/RMP?easy=1")
    html = page.data.decode()
    assert html.count('class="pulse-picture"') == 4 and "Very good" in html
    client.post("/q/RMP?easy=1", data={**hidden_fields(page.data), "rating": "3"})
    [rating] = _ratings(session)
    assert rating.easy_read is True


def test_a_forged_site_code_or_rating_is_refused(client, session, make_site, hidden_fields):
    make_site("RMP")
    assert client.get("/q/NOSUCH").status_code == 404
    page = client.get("/q/RMP")
    result = client.post("/q/RMP", data={**hidden_fields(page.data), "rating": "9"})
    assert result.status_code == 400
    assert b"Choose one of the four answers" in result.data
    assert _ratings(session) == []


@pytest.mark.parametrize("app_config", [{"PULSE_QR_LIMIT": "3 per minute"}])
def test_qr_posts_are_rate_limited_per_client(client, make_site, hidden_fields):
    make_site("RMP")
    statuses = []
    for _ in range(4):
        client.delete_cookie("pulse_qr")
        statuses.append(_rate(client, "/q/RMP", hidden_fields).status_code)
    assert statuses == [302, 302, 302, 429]


def test_the_poster_carries_an_svg_qr_code_for_the_site(client, make_site, make_user, login):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    login(client, "recorder@example.test")
    html = client.get("/sites/RMP/poster").data.decode()
    assert "<svg" in html and "http://pulse.test/q/RMP" in html
    assert client.get("/sites/NOPE/poster").status_code == 404
