"""A signed-in clinician records activation inside the consultation (test client)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import ActivationRating, AuditEvent, Neighbourhood
from tests.conftest import PSEUDONYM_KEY

VALID = "943 476 5919"
VALID_DIGITS = "9434765919"


@pytest.fixture
def recorder(client, make_site, make_user, login):
    make_site("RMP")
    make_site("HUB")
    make_site("FAR", int_slug="other-int")
    make_user("recorder", sites=("RMP", "HUB"))
    assert login(client, "recorder@example.test").status_code == 302
    return client


def _form(client, hidden_fields, **answers):
    page = client.get("/activation/record")
    assert page.status_code == 200
    return {**hidden_fields(page.data), "site": "RMP", "consultation_type": "gp", **answers}


def _ratings(session):
    session.expire_all()
    return session.exec(select(ActivationRating)).all()


def test_a_rating_is_stored_with_where_when_and_how_but_not_who(recorder, session,
                                                                 hidden_fields):
    data = _form(recorder, hidden_fields, rating="3", consultation_type="nurse", proxy="y")
    result = recorder.post("/activation/record", data=data)
    assert result.status_code == 302
    [rating] = _ratings(session)
    assert (rating.rating, rating.channel, rating.consultation_type, rating.proxy) == (
        3, "clinician", "nurse", True)
    assert rating.rated_on == utcnow().date() or abs(
        (rating.rated_on - utcnow().date()).days) <= 1
    assert rating.patient_pseudonym is None
    assert "user" not in " ".join(ActivationRating.model_fields)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.target == rating.id)).all()
    assert event.action == "activation.record.clinician" and event.user_id is not None
    page = recorder.get("/activation/record").data.decode()
    assert "Saved: 3 Good." in page
    # Consultation type and site are remembered for the next patient.
    assert re.search(r'<option value="nurse" selected>', page)


def test_a_double_submit_stores_one_rating(recorder, session, hidden_fields):
    data = _form(recorder, hidden_fields, rating="2")
    assert recorder.post("/activation/record", data=data).status_code == 302
    assert recorder.post("/activation/record", data=data).status_code == 302
    assert len(_ratings(session)) == 1


def test_an_nhs_number_becomes_a_stable_pseudonym(recorder, session, hidden_fields):
    for value in (VALID, "943-476-5919"):
        recorder.post("/activation/record",
                      data=_form(recorder, hidden_fields, rating="2", nhs_number=value))
    first, second = _ratings(session)
    from survey_app.activation.nhs_number import pseudonymise

    assert first.patient_pseudonym == second.patient_pseudonym == pseudonymise(
        VALID_DIGITS, PSEUDONYM_KEY)


@pytest.mark.parametrize("bad, message", [
    ("9434765918", "This is not a valid NHS number: check the last digit"),
    ("943476591", "An NHS number has 10 digits"),
    ("94347A5919", "An NHS number has 10 digits"),
    ("0000000000", "not a real NHS number"),
])
def test_bad_nhs_numbers_are_refused_clearly_and_nothing_stored(recorder, session,
                                                                hidden_fields, bad, message):
    result = recorder.post("/activation/record",
                           data=_form(recorder, hidden_fields, rating="1", nhs_number=bad))
    assert result.status_code == 400
    html = result.data.decode()
    assert message in html and 'class="nhsuk-error-summary"' in html
    # The typo is shown back so it can be fixed, on this no-store page only.
    assert f'value="{bad}"' in html and result.headers["Cache-Control"] == "no-store"
    assert _ratings(session) == []


@pytest.mark.parametrize("app_config", [{"PULSE_PSEUDONYM_KEY": None}])
def test_without_a_pseudonym_key_nhs_numbers_are_refused(recorder, session, hidden_fields):
    result = recorder.post("/activation/record",
                           data=_form(recorder, hidden_fields, rating="2", nhs_number=VALID))
    assert result.status_code == 400
    assert b"Follow-up by NHS number is not set up" in result.data
    assert _ratings(session) == []
    # Without a number the rating is still recorded.
    assert recorder.post("/activation/record",
                         data=_form(recorder, hidden_fields, rating="2")).status_code == 302


@pytest.mark.parametrize("field, value, message", [
    ("rating", "7", "Choose one of the four answers"),
    ("rating", "", "Choose one of the four answers"),
    ("consultation_type", "dentist", "Choose a consultation type"),
    ("site", "FAR", "Choose one of your sites"),   # a real site, outside this recorder's scope
    ("site", "NOPE", "Choose one of your sites"),
])
def test_out_of_range_or_out_of_scope_values_store_nothing(recorder, session, hidden_fields,
                                                           field, value, message):
    data = _form(recorder, hidden_fields, rating="3")
    data[field] = value
    result = recorder.post("/activation/record", data=data)
    assert result.status_code == 400
    assert message in result.data.decode()
    assert _ratings(session) == []


def test_low_ratings_show_the_ints_prompt(recorder, session, hidden_fields):
    neighbourhood = session.exec(select(Neighbourhood)).first()
    neighbourhood.low_activation_prompt = "Offer the Tuesday health coaching group."
    session.add(neighbourhood)
    session.commit()
    recorder.post("/activation/record", data=_form(recorder, hidden_fields, rating="1"))
    assert b"Offer the Tuesday health coaching group." in recorder.get("/activation/record").data
    recorder.post("/activation/record", data=_form(recorder, hidden_fields, rating="4"))
    assert b"health coaching group" not in recorder.get("/activation/record").data


def test_undo_removes_the_last_rating_within_five_minutes(recorder, session, hidden_fields):
    recorder.post("/activation/record", data=_form(recorder, hidden_fields, rating="2"))
    fields = hidden_fields(recorder.get("/activation/record").data)
    result = recorder.post("/activation/undo", data={"csrf_token": fields["csrf_token"]})
    assert result.status_code == 302
    assert _ratings(session) == []
    assert b"Undone" in recorder.get("/activation/record").data


def test_undo_is_refused_after_the_window(recorder, session, hidden_fields):
    recorder.post("/activation/record", data=_form(recorder, hidden_fields, rating="2"))
    fields = hidden_fields(recorder.get("/activation/record").data)
    later = utcnow() + timedelta(minutes=6)
    with mock.patch("survey_app.activation.views.utcnow", return_value=later):
        recorder.post("/activation/undo", data={"csrf_token": fields["csrf_token"]})
    assert len(_ratings(session)) == 1


def test_an_expired_session_sends_the_clinician_to_sign_in(client, make_site, make_user):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    result = client.get("/activation/record")
    assert result.status_code == 302 and "/login" in result.headers["Location"]
    assert b"session has ended" in client.get(result.headers["Location"]).data


def test_the_nhs_number_is_never_stored_or_logged_in_clear(recorder, session, hidden_fields,
                                                           caplog, app):
    caplog.set_level(logging.DEBUG)
    numbers = ["943 476 5919", "9991234578"]
    for number in numbers:
        recorder.post("/activation/record",
                      data=_form(recorder, hidden_fields, rating="2", nhs_number=number))
    recorder.post("/activation/record",
                  data=_form(recorder, hidden_fields, rating="2", nhs_number="9434765918"))
    assert len(_ratings(session)) == 2
    digits = [n.replace(" ", "") for n in numbers] + ["9434765918"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(d in logged for d in digits)
    dump = _everything_stored(session)
    assert not any(d in dump for d in digits)
    assert not any(d in _database_bytes(app) for d in digits)


def _everything_stored(session) -> str:
    from sqlalchemy import inspect, text

    connection = session.connection()
    rows = []
    for table in inspect(connection).get_table_names():
        rows += [repr(tuple(row)) for row in connection.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(rows)


def _database_bytes(app) -> str:
    """The raw SQLite file and its WAL, as text (empty on PostgreSQL)."""
    from pathlib import Path

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        return ""
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                    if p.exists()).decode("latin-1")
