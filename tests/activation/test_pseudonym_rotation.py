"""Changing the pseudonym key: a transition, patient by patient, then the old key dropped.

Expected pseudonyms are computed here with ``hmac.new`` from the synthetic keys
below, not through the code under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import event, insert, text
from sqlmodel import SQLModel, select

from survey_app.activation import ratings
from survey_app.activation.nhs_number import pseudonymise
from survey_app.activation.pseudonyms import keys_from_config, status
from survey_app.core.clock import local_date, utcnow
from survey_app.core.config import load_settings
from survey_app.core.config_error import ConfigError
from survey_app.core.dates import long_date
from survey_app.core.db import get_engine
from survey_app.core.instruments import ensure_version
from survey_app.models import ActivationRating, AppSetting, AuditEvent, Neighbourhood
from survey_app.reporting.activation_report import activation_report

NUMBER = "9434765919"  # synthetic, valid check digit
OTHER = "9991234578"  # a second patient, never seen again after the key change
THIRD = "4010232137"
OLD_KEY = b"old-synthetic-pseudonym-key-0123456789"
NEW_KEY = b"new-synthetic-pseudonym-key-9876543210"
OLD = hmac.new(OLD_KEY, NUMBER.encode(), hashlib.sha256).hexdigest()
NEW = hmac.new(NEW_KEY, NUMBER.encode(), hashlib.sha256).hexdigest()
OTHER_OLD = hmac.new(OLD_KEY, OTHER.encode(), hashlib.sha256).hexdigest()
ONLY_OLD = {"PULSE_PSEUDONYM_KEY": OLD_KEY, "PULSE_PSEUDONYM_KEY_ID": "k1"}
CHANGING = {"PULSE_PSEUDONYM_KEY": NEW_KEY, "PULSE_PSEUDONYM_KEY_ID": "k2",
            "PULSE_PSEUDONYM_OLD_KEY": OLD_KEY, "PULSE_PSEUDONYM_OLD_KEY_ID": "k1"}
during_a_change = pytest.mark.parametrize("app_config", [CHANGING])


@pytest.fixture
def site(make_site):
    return make_site("RMP")


@pytest.fixture
def stored(app, session, site):
    """Store ratings as an earlier key made them: ``stored([(pseudonym, key id), ...])``."""
    version = ensure_version(session, instrument=app.extensions["pulse_instruments"][
        "patient-activation"])
    session.commit()
    serial = iter(range(10**6))

    def add(rows: list[tuple[str | None, str | None]], on: date = date(2025, 1, 10)) -> None:
        session.execute(insert(ActivationRating), [
            {"id": f"{next(serial):032x}", "site_id": site.id, "rated_on": on,
             "channel": "clinician", "rating": 2, "questionnaire_version_id": version.id,
             "idempotency_key": f"old-{next(serial)}", "proxy": False, "easy_read": False,
             "patient_pseudonym": pseudonym, "pseudonym_key_id": key_id}
            for pseudonym, key_id in rows])
        session.commit()

    return add


@pytest.fixture
def record(app, session, site):
    """Record one rating with an NHS number, as the consultation page does."""
    serial = iter(range(10**6))

    def rate(nhs_number: str | None, on: date = date(2025, 2, 10)) -> ratings.Recorded:
        return ratings.record_activation(
            session, entry=ratings.RatingInput(
                site=site, channel="clinician", rating=3, on=on,
                idempotency_key=f"new-{next(serial)}", nhs_number=nhs_number),
            instrument=app.extensions["pulse_instruments"]["patient-activation"],
            pseudonym_key=keys_from_config(app.config), user_id=None, now=utcnow())

    return rate


def _by_pseudonym(session) -> dict[tuple[str | None, str | None], int]:
    session.expire_all()
    found: dict[tuple[str | None, str | None], int] = {}
    for rating in session.exec(select(ActivationRating)):
        key = (rating.patient_pseudonym, rating.pseudonym_key_id)
        found[key] = found.get(key, 0) + 1
    return found


def test_a_pseudonym_is_hmac_sha256_of_the_digits_under_each_key():
    assert pseudonymise(NUMBER, OLD_KEY) == OLD
    assert pseudonymise(NUMBER, NEW_KEY) == NEW
    assert OLD != NEW and len(OLD) == len(NEW) == 64


@pytest.mark.parametrize("app_config", [ONLY_OLD])
def test_outside_a_change_a_rating_carries_its_key_id_and_labels_its_own_older_ratings(
        session, stored, record):
    # Before key ids were kept: this patient's two ratings and another patient's one.
    stored([(OLD, None), (OLD, None), (OTHER_OLD, None)])
    record(NUMBER)
    session.commit()
    # An equal HMAC proves the same key made them; the other patient is left as it was.
    assert _by_pseudonym(session) == {(OLD, "k1"): 3, (OTHER_OLD, None): 1}


@during_a_change
def test_during_a_change_a_rating_re_keys_that_patients_earlier_ratings(session, stored,
                                                                         record):
    stored([(OLD, "k1"), (OLD, "k1"), (OLD, None), (OTHER_OLD, "k1"), (None, None)])
    recorded = record(NUMBER)
    session.commit()
    assert recorded.created
    assert (recorded.rating.patient_pseudonym, recorded.rating.pseudonym_key_id) == (NEW, "k2")
    # All three earlier ratings (the unlabelled one too) moved; the other patient waits.
    assert _by_pseudonym(session) == {(NEW, "k2"): 4, (OTHER_OLD, "k1"): 1, (None, None): 1}
    # A rating without an NHS number moves nothing.
    record(None)
    session.commit()
    assert _by_pseudonym(session)[(OTHER_OLD, "k1")] == 1


@during_a_change
def test_the_consultation_page_uses_the_new_key_and_re_keys(client, session, site, stored,
                                                            make_user, login, hidden_fields,
                                                            caplog):
    stored([(OLD, "k1"), (OLD, "k1")])
    make_user("recorder", sites=("RMP",))
    assert login(client, "recorder@example.test").status_code == 302
    page = client.get("/activation/record")
    caplog.set_level(logging.DEBUG)
    posted = client.post("/activation/record", data={
        **hidden_fields(page.data), "site": "RMP", "consultation_type": "gp", "rating": "3",
        "nhs_number": "943 476 5919"})
    assert posted.status_code == 302
    assert _by_pseudonym(session) == {(NEW, "k2"): 3}
    # The NHS number is in no log line and no table, in any form.
    assert NUMBER not in caplog.text and "943 476 5919" not in caplog.text
    for table in SQLModel.metadata.sorted_tables:
        with get_engine(client.application).connect() as connection:
            dumped = " ".join(str(row) for row in connection.execute(table.select()))
        assert NUMBER not in dumped and "943 476 5919" not in dumped, table.name


@during_a_change
def test_status_prints_the_keys_and_the_progress(runner, session, stored, record):
    stored([(OLD, "k1"), (OLD, None), (OTHER_OLD, "k1"), (OTHER_OLD, None)])
    record(THIRD)
    session.commit()
    result = runner.invoke(args=["pseudonyms", "status"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:6] == [
        "Current key: k2",
        "Old key: k1 (key change in progress)",
        "Ratings with a pseudonym, by key:",
        "  k1: 2 ratings, 2 patients",
        "  k2: 1 rating, 1 patient",
        "  unlabelled (recorded before key ids were kept): 2 ratings, 2 patients",
    ]
    # The unlabelled ones were made by the old key: two patients, four ratings, to match.
    assert "Not yet matched under k1: 2 patients (4 ratings)" in result.output
    record(NUMBER)
    session.commit()
    after = runner.invoke(args=["pseudonyms", "status"]).output
    assert "Not yet matched under k1: 1 patient (2 ratings)" in after
    assert "  k2: 4 ratings, 2 patients" in after


@during_a_change
def test_ending_the_change_clears_the_unmatched_and_records_how_many(
        app, runner, session, stored, record, make_site, site):
    stored([(OLD, "k1"), (OTHER_OLD, "k1"), (OTHER_OLD, None), (None, None)])
    elsewhere = make_site("FAR", int_slug="other-int")
    record(NUMBER)
    session.commit()
    version_id = session.exec(select(ActivationRating)).first().questionnaire_version_id
    session.add(ActivationRating(site_id=elsewhere.id, rated_on=date(2025, 1, 3),
                                 channel="clinician", rating=1, questionnaire_version_id=version_id,
                                 patient_pseudonym=OTHER_OLD, pseudonym_key_id="k1",
                                 idempotency_key="far-1"))
    session.commit()
    # Unmatched ones stay under the old key, still matchable, until the end.
    assert _by_pseudonym(session)[(OTHER_OLD, "k1")] == 2

    refused = runner.invoke(args=["pseudonyms", "end-transition"], input="n\n")
    assert refused.exit_code != 0 and _by_pseudonym(session)[(OTHER_OLD, "k1")] == 2
    result = runner.invoke(args=["pseudonyms", "end-transition", "--yes"])
    assert result.exit_code == 0, result.output
    assert "3 earlier ratings no longer linked to a patient" in result.output
    # The ratings stay, without a pseudonym; the matched patient keeps theirs.
    assert _by_pseudonym(session) == {(NEW, "k2"): 2, (None, None): 4}
    settings = {s.key: s.value for s in session.exec(select(AppSetting))}
    today = local_date(utcnow()).isoformat()
    assert settings == {
        "pseudonym_key_change.ended_on": today, "pseudonym_key_change.old_key_id": "k1",
        f"pseudonym_key_change.unlinked.{site.neighbourhood_id}": "2",
        f"pseudonym_key_change.unlinked.{elsewhere.neighbourhood_id}": "1"}
    [audited] = session.exec(select(AuditEvent).where(
        AuditEvent.action == "pseudonyms.end_transition")).all()
    assert (audited.target, json.loads(audited.detail or "{}")) == ("k1", {"unlinked": 3})
    # Ending again clears nothing more and keeps the count.
    again = runner.invoke(args=["pseudonyms", "end-transition", "--yes"])
    assert "0 earlier ratings" in again.output
    session.expire_all()
    assert session.get(AppSetting, f"pseudonym_key_change.unlinked.{site.neighbourhood_id}"
                       ).value == "2"
    assert "Last key change ended on " + today + " (old key k1): 3 ratings unlinked" in (
        runner.invoke(args=["pseudonyms", "status"]).output)


@pytest.mark.parametrize("app_config", [ONLY_OLD])
def test_ending_a_change_needs_the_old_key_configured(runner, session, stored):
    stored([(OLD, "k1")])
    result = runner.invoke(args=["pseudonyms", "end-transition", "--yes"])
    assert result.exit_code == 1
    assert "No key change is in progress" in result.output
    assert _by_pseudonym(session) == {(OLD, "k1"): 1}


@during_a_change
def test_the_activation_report_says_how_many_ratings_lost_their_link(
        app, runner, client, session, stored, record, make_user, login):
    stored([(OTHER_OLD, "k1"), (OTHER_OLD, "k1"), (OTHER_OLD, None)])
    make_user("lead", ints=("test-int",))
    assert login(client, "lead@example.test").status_code == 302
    page_before = client.get("/reports/test-int/activation").get_data(as_text=True)
    assert "could no longer be linked" not in page_before
    assert runner.invoke(args=["pseudonyms", "end-transition", "--yes"]).exit_code == 0
    page = client.get("/reports/test-int/activation").get_data(as_text=True)
    assert (f"3 earlier ratings could no longer be linked after the pseudonym key was "
            f"changed on {long_date(local_date(utcnow()))}.") in page
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == "test-int")).one()
    report = activation_report(session, neighbourhood=neighbourhood, threshold=5,
                               today=date(2099, 1, 1))
    assert report.unlinked is not None and report.unlinked.count == 3


def test_paired_change_never_pairs_ratings_under_different_keys(app, session, site, stored):
    neighbourhood = session.get(Neighbourhood, site.neighbourhood_id)

    def pairs() -> int | None:
        [site_row, _pooled] = activation_report(session, neighbourhood=neighbourhood,
                                                threshold=1, today=date(2099, 1, 1)).paired
        return site_row.pairs

    # The same pseudonym string under two key ids is two patients, never one pair.
    stored([(OLD, "k1")], on=date(2025, 1, 10))
    stored([(OLD, "k2")], on=date(2025, 2, 10))
    assert pairs() == 0
    stored([(OLD, "k2")], on=date(2025, 1, 12))
    assert pairs() == 1


@during_a_change
def test_a_crash_mid_re_key_keeps_the_patient_whole_under_the_old_key(app, session, stored,
                                                                      record):
    stored([(OLD, "k1"), (OLD, "k1"), (OLD, None)])
    engine = get_engine(app)

    def crash(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE activation_rating SET patient_pseudonym"):
            raise RuntimeError("power cut")

    event.listen(engine, "before_cursor_execute", crash)
    try:
        with pytest.raises(RuntimeError, match="power cut"):
            record(NUMBER)
    finally:
        event.remove(engine, "before_cursor_execute", crash)
    session.rollback()
    # Neither the new rating nor any move: still matchable by the old key...
    assert _by_pseudonym(session) == {(OLD, "k1"): 2, (OLD, None): 1}
    # ... so the next rating of the same patient moves them all.
    record(NUMBER)
    session.commit()
    assert _by_pseudonym(session) == {(NEW, "k2"): 4}


_KILLED_SCRIPT = """
import json, os, signal, sys
from datetime import date
from sqlalchemy import event
from sqlmodel import Session, select
from survey_app import create_app
from survey_app.activation import ratings
from survey_app.activation.pseudonyms import keys_from_config
from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine
from survey_app.models import Site

config = json.loads(os.environ["KILL_TEST_CONFIG"])
for name in ("PULSE_PSEUDONYM_KEY", "PULSE_PSEUDONYM_OLD_KEY"):
    config[name] = config[name].encode()
app = create_app(config)
engine = get_engine(app)

@event.listens_for(engine, "after_cursor_execute")
def killed(conn, cursor, statement, parameters, context, executemany):
    if statement.startswith("UPDATE activation_rating SET patient_pseudonym"):
        print("moved", cursor.rowcount, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # after the move, before the commit

with Session(engine) as session:
    site = session.exec(select(Site).where(Site.code == "RMP")).one()
    ratings.record_activation(session, entry=ratings.RatingInput(
        site=site, channel="clinician", rating=3, on=date(2025, 2, 10),
        idempotency_key="killed-1", nhs_number=sys.argv[1]),
        instrument=app.extensions["pulse_instruments"]["patient-activation"],
        pseudonym_key=keys_from_config(app.config), user_id=None, now=utcnow())
    session.commit()
print("committed", flush=True)
"""


@during_a_change
def test_a_process_killed_between_the_move_and_the_commit_moves_nothing(app, session,
                                                                        stored, record):
    stored([(OLD, "k1"), (OLD, None)])
    config = {name: app.config[name] for name in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PULSE_BASE_URL",
        "RATELIMIT_STORAGE_URI", "PULSE_PSEUDONYM_KEY_ID", "PULSE_PSEUDONYM_OLD_KEY_ID")}
    config |= {"PULSE_PSEUDONYM_KEY": NEW_KEY.decode(),
               "PULSE_PSEUDONYM_OLD_KEY": OLD_KEY.decode()}
    killed = subprocess.run([sys.executable, "-c", _KILLED_SCRIPT, NUMBER],
                            env={**os.environ, "KILL_TEST_CONFIG": json.dumps(config)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert killed.returncode == -9, killed.stderr
    assert killed.stdout.split() == ["moved", "2"]
    with get_engine(app).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM activation_rating")).scalar() == 2
    assert _by_pseudonym(session) == {(OLD, "k1"): 1, (OLD, None): 1}
    record(NUMBER)
    session.commit()
    assert _by_pseudonym(session) == {(NEW, "k2"): 3}


@pytest.mark.parametrize("environ, message", [
    ({"PULSE_PSEUDONYM_OLD_KEY": OLD_KEY.decode()}, "needs PULSE_PSEUDONYM_OLD_KEY_ID"),
    ({"PULSE_PSEUDONYM_OLD_KEY_ID": "k1"}, "PULSE_PSEUDONYM_OLD_KEY is not"),
    ({"PULSE_PSEUDONYM_OLD_KEY": OLD_KEY.decode(), "PULSE_PSEUDONYM_OLD_KEY_ID": "k1",
      "PULSE_PSEUDONYM_KEY_ID": "k1"}, "are both 'k1'"),
    ({"PULSE_PSEUDONYM_OLD_KEY": "short", "PULSE_PSEUDONYM_OLD_KEY_ID": "k1",
      "PULSE_PSEUDONYM_KEY_ID": "k2"}, "PULSE_PSEUDONYM_OLD_KEY must be at least 32"),
    ({"PULSE_PSEUDONYM_KEY": "short"}, "PULSE_PSEUDONYM_KEY must be at least 32"),
    ({"PULSE_PSEUDONYM_OLD_KEY": NEW_KEY.decode(), "PULSE_PSEUDONYM_OLD_KEY_ID": "k1",
      "PULSE_PSEUDONYM_KEY_ID": "k2"}, "the same as PULSE_PSEUDONYM_KEY"),
    ({"PULSE_PSEUDONYM_KEY_ID": "key two"}, "PULSE_PSEUDONYM_KEY_ID must be 1 to 32"),
    ({"PULSE_ENV": "production", "PULSE_SECRET_KEY": "s" * 40,
      "PULSE_PSEUDONYM_KEY": "", "PULSE_PSEUDONYM_OLD_KEY": OLD_KEY.decode(),
      "PULSE_PSEUDONYM_OLD_KEY_ID": "k1"}, "without PULSE_PSEUDONYM_KEY"),
])
def test_an_inconsistent_key_setting_is_refused_clearly(tmp_path, environ, message):
    base = {"PULSE_PSEUDONYM_KEY": NEW_KEY.decode()}
    with pytest.raises(ConfigError, match=message):
        load_settings(str(tmp_path), {**base, **environ})


def test_the_key_settings_default_to_one_key_called_k1(tmp_path):
    settings = load_settings(str(tmp_path), {"PULSE_PSEUDONYM_KEY": NEW_KEY.decode()})
    assert (settings["PULSE_PSEUDONYM_KEY"], settings["PULSE_PSEUDONYM_KEY_ID"],
            settings["PULSE_PSEUDONYM_OLD_KEY"], settings["PULSE_PSEUDONYM_OLD_KEY_ID"]) == (
        NEW_KEY, "k1", None, None)
    changing = load_settings(str(tmp_path), {
        "PULSE_PSEUDONYM_KEY": NEW_KEY.decode(), "PULSE_PSEUDONYM_KEY_ID": "k2",
        "PULSE_PSEUDONYM_OLD_KEY": OLD_KEY.decode(), "PULSE_PSEUDONYM_OLD_KEY_ID": "k1"})
    keys = keys_from_config(changing)
    assert keys is not None and keys.old is not None
    assert (keys.current.key_id, keys.current.secret, keys.old.key_id, keys.old.secret) == (
        "k2", NEW_KEY, "k1", OLD_KEY)
    assert OLD_KEY.decode() not in repr(keys)


def test_status_counts_without_a_change(app, session, stored):
    stored([(OLD, "k1"), (OLD, "k1")])
    keys = keys_from_config(app.config)
    assert keys is not None
    found = status(session, keys=keys)
    assert (found.old_key_id, found.unmatched_ratings, [c.ratings for c in found.by_key]) == (
        None, 0, [2])
