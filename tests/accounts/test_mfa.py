"""TOTP as RFC 6238 says and authenticator apps expect, replay refused, recovery codes
single use, and the secret encrypted under a key the database does not hold."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import select

from survey_app.accounts import mfa
from survey_app.core.config_error import ConfigError
from survey_app.models import RecoveryCode
from tests.conftest import TOTP_KEY, TOTP_SECRET

# RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
KEY = TOTP_KEY.encode()
NOW = datetime(2025, 3, 17, 9, 0, 15, tzinfo=UTC)  # 15 s into its 30-second step


@pytest.mark.parametrize(("seconds", "eight_digits"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")])
def test_codes_match_the_rfc_6238_sha1_test_vectors(seconds, eight_digits):
    moment = datetime.fromtimestamp(seconds, UTC)
    assert mfa.code_at(RFC_SECRET, moment=moment, digits=8) == eight_digits
    # An app's 6-digit code is the same HOTP value truncated to its last 6 digits.
    assert mfa.code_at(RFC_SECRET, moment=moment) == eight_digits[-6:]


def test_the_provisioning_uri_says_sha1_six_digits_thirty_seconds():
    uri = mfa.provisioning_uri(TOTP_SECRET, email="lead@example.test")
    assert uri.startswith("otpauth://totp/Pulse:lead%40example.test?secret=" + TOTP_SECRET)
    assert "issuer=Pulse" in uri
    # pyotp leaves out the defaults, which are exactly what apps assume.
    assert "algorithm" not in uri and "digits" not in uri and "period" not in uri
    svg = mfa.qr_svg(uri)
    assert svg.startswith("<svg") and "<title>QR code for your authenticator app</title>" in svg


def _enrolled(make_user, session, email="lead@example.test"):
    user = make_user("lead", email=email, ints=("test-int",), totp=False)
    codes = mfa.enrol_with_secret(session, user=user, secret=TOTP_SECRET, key=KEY, now=NOW)
    session.commit()
    return user, codes


@pytest.fixture
def lead(make_site, make_user, session):
    make_site("RMP")
    return _enrolled(make_user, session)


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True),
                                                  (1, True), (2, False)])
def test_one_step_of_drift_either_way_is_accepted_two_are_not(session, lead, offset,
                                                              accepted):
    user, _ = lead
    code = mfa.code_at(TOTP_SECRET, moment=NOW + timedelta(seconds=30 * offset))
    assert mfa.check_code(session, user=user, code=code, key=KEY, now=NOW) is accepted


def test_a_used_code_and_any_older_one_are_refused(session, lead):
    user, _ = lead
    now_code = mfa.code_at(TOTP_SECRET, moment=NOW)
    earlier = mfa.code_at(TOTP_SECRET, moment=NOW - timedelta(seconds=30))
    assert mfa.check_code(session, user=user, code=now_code, key=KEY, now=NOW)
    session.commit()
    assert user.totp_last_step == int(NOW.timestamp()) // 30
    assert not mfa.check_code(session, user=user, code=now_code, key=KEY, now=NOW)
    assert not mfa.check_code(session, user=user, code=earlier, key=KEY, now=NOW)
    # The next step's code is still good (the app moved on), once.
    later = mfa.code_at(TOTP_SECRET, moment=NOW + timedelta(seconds=30))
    assert mfa.check_code(session, user=user, code=later, key=KEY, now=NOW)
    assert not mfa.check_code(session, user=user, code=later, key=KEY, now=NOW)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_codes_that_are_not_six_digits_are_refused(session, lead, typed):
    user, _ = lead
    assert not mfa.check_code(session, user=user, code=typed, key=KEY, now=NOW)


def test_spaces_in_a_typed_code_are_ignored(session, lead):
    user, _ = lead
    code = mfa.code_at(TOTP_SECRET, moment=NOW)
    assert mfa.check_code(session, user=user, code=f" {code[:3]} {code[3:]} ", key=KEY, now=NOW)


def test_ten_recovery_codes_each_work_once_and_are_kept_only_hashed(session, lead):
    user, codes = lead
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = session.exec(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)
    assert mfa.use_recovery_code(session, user=user, code=codes[3].upper(), now=NOW)
    session.commit()
    assert not mfa.use_recovery_code(session, user=user, code=codes[3], now=NOW)
    assert mfa.use_recovery_code(session, user=user, code=codes[4].replace("-", ""), now=NOW)
    assert not mfa.use_recovery_code(session, user=user, code="abcd-efgh-jkmn-pqrs", now=NOW)


def test_another_users_recovery_code_is_refused(session, lead, make_user):
    user, _ = lead
    _, other_codes = _enrolled(make_user, session, email="other@example.test")
    assert not mfa.use_recovery_code(session, user=user, code=other_codes[0], now=NOW)


def test_the_secret_is_encrypted_at_rest_and_the_key_is_not_in_the_database(session, lead):
    user, _ = lead
    [stored] = session.execute(text(
        "SELECT totp_secret_encrypted FROM app_user WHERE id = :id"), {"id": user.id}).one()
    assert TOTP_SECRET not in stored and TOTP_SECRET.lower() not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    for table in ("app_user", "app_setting", "recovery_code", "audit_event"):
        for row in session.execute(text(f"SELECT * FROM {table}")):
            assert not any(TOTP_KEY in str(value) or TOTP_SECRET in str(value)
                           for value in row), table
    # Another key cannot read it: the setting, not the database, holds what unlocks it.
    with pytest.raises(ConfigError, match="PULSE_TOTP_KEY"):
        mfa.check_code(session, user=user, code="000000",
                       key=Fernet.generate_key(), now=NOW)


def test_enrolment_needs_a_code_from_the_new_secret(session, make_site, make_user):
    make_site("RMP")
    user = make_user("lead", ints=("test-int",), totp=False)
    secret = mfa.pending_secret(session, user=user, key=KEY)
    assert mfa.pending_secret(session, user=user, key=KEY) == secret  # the same QR on reload
    assert not mfa.is_enrolled(user)
    with pytest.raises(mfa.MfaError, match="not right"):
        mfa.confirm_enrolment(session, user=user, code="000000" if mfa.code_at(
            secret, moment=NOW) != "000000" else "111111", key=KEY, now=NOW)
    codes = mfa.confirm_enrolment(session, user=user, code=mfa.code_at(secret, moment=NOW),
                                  key=KEY, now=NOW)
    assert mfa.is_enrolled(user) and len(codes) == 10
    with pytest.raises(mfa.MfaError, match="already set up"):
        mfa.pending_secret(session, user=user, key=KEY)


def test_production_needs_the_key_and_development_keeps_one(tmp_path):
    with pytest.raises(ConfigError, match="PULSE_TOTP_KEY must be set in production"):
        mfa.totp_key_setting("production", str(tmp_path), {})
    with pytest.raises(ConfigError, match="must be a Fernet key"):
        mfa.totp_key_setting("production", str(tmp_path), {"PULSE_TOTP_KEY": "too-short"})
    assert mfa.totp_key_setting("production", str(tmp_path),
                                {"PULSE_TOTP_KEY": TOTP_KEY}) == KEY
    kept = mfa.totp_key_setting("development", str(tmp_path), {})
    assert (tmp_path / "totp_key").read_text().encode() == kept
    assert (tmp_path / "totp_key").stat().st_mode & 0o777 == 0o600
    assert mfa.totp_key_setting("development", str(tmp_path), {}) == kept


def test_two_requests_racing_with_one_code_or_recovery_code_get_one_yes(app, session, lead):
    # Each request loaded the user before either accepted: the database decides.
    from sqlmodel import Session

    from survey_app.core.db import get_engine
    from survey_app.models import User

    user, codes = lead
    code = mfa.code_at(TOTP_SECRET, moment=NOW)
    with Session(get_engine(app)) as first, Session(get_engine(app)) as second:
        mine, theirs = first.get(User, user.id), second.get(User, user.id)
        assert mfa.check_code(first, user=mine, code=code, key=KEY, now=NOW)
        first.commit()
        assert not mfa.check_code(second, user=theirs, code=code, key=KEY, now=NOW)
        second.commit()
        mine, theirs = first.get(User, user.id), second.get(User, user.id)
        assert mfa.use_recovery_code(first, user=mine, code=codes[0], now=NOW)
        first.commit()
        assert not mfa.use_recovery_code(second, user=theirs, code=codes[0], now=NOW)
