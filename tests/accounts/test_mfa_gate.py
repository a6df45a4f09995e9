"""A lead or admin signed in with a password reaches no report or admin page before
setting up TOTP and entering a code; a recorder may set it up but need not."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from survey_app.accounts import mfa
from survey_app.core.clock import utcnow
from survey_app.models import AuditEvent
from tests.conftest import PASSWORD, TOTP_SECRET, fresh_totp_code

PROTECTED = ["/reports/", "/admin/users", "/home", "/account/password", "/admin/audit"]


@pytest.fixture
def people(make_site, make_user):
    make_site("RMP")
    make_user("lead", ints=("test-int",), totp=False)
    make_user("admin", totp=False)
    make_user("recorder", sites=("RMP",))
    make_user("lead", email="enrolled@example.test", ints=("test-int",))


def _password(client, hidden_fields, email, next_path=""):
    fields = hidden_fields(client.get("/login").data)
    return client.post("/login" + next_path, data={**fields, "email": email,
                                                    "password": PASSWORD})


def _actions(session):
    """The sign-in events recorded, in order (report views left out)."""
    session.commit()  # a fresh look: the app committed in its own sessions
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("auth.")]


def _enrol(client, hidden_fields):
    page = client.get("/login/set-up")
    assert page.status_code == 200
    html = page.data.decode()
    assert "<svg" in html and "QR code for your authenticator app" in html
    secret = re.search(r'id="secret-key"><code>([A-Z2-7 ]+)</code>', html)[1].replace(" ", "")
    code = mfa.code_at(secret, moment=utcnow())
    done = client.post("/login/set-up", data={**hidden_fields(page.data), "code": code})
    return secret, done


@pytest.mark.parametrize("email", ["lead@example.test", "admin@example.test"])
def test_a_lead_or_admin_without_totp_reaches_nothing_until_enrolled(
        client, people, hidden_fields, session, email):
    first = _password(client, hidden_fields, email)
    assert first.status_code == 302 and first.headers["Location"] == "/login/code"
    assert client.get("/login/code").headers["Location"] == "/login/set-up"
    for path in PROTECTED:
        refused = client.get(path)
        assert refused.status_code == 302, path
        assert refused.headers["Location"].startswith("/login/code?next="), path
    assert "auth.login" not in _actions(session)
    secret, done = _enrol(client, hidden_fields)
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code></li>",
                       done.data.decode())
    assert len(codes) == 10 and "This is the only time they are shown" in done.data.decode()
    assert client.get("/reports/").status_code == 200
    assert client.get("/home").status_code == 200
    assert client.get("/admin/users").status_code == (200 if email.startswith("admin")
                                                       else 403)
    assert _actions(session) == ["auth.mfa_enrolled", "auth.login"]
    # The set-up page cannot show the secret again.
    assert client.get("/login/set-up").headers["Location"] == "/home"
    assert secret not in client.get("/home").data.decode()


def test_a_wrong_code_at_set_up_is_refused_clearly_and_audited(client, people, hidden_fields,
                                                               session):
    _password(client, hidden_fields, "lead@example.test")
    page = client.get("/login/set-up")
    wrong = client.post("/login/set-up", data={**hidden_fields(page.data), "code": "12345"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.data
    assert b"There is a problem" in wrong.data
    assert client.get("/reports/").status_code == 302
    assert _actions(session) == ["auth.mfa_failed"]


def test_the_next_page_survives_the_code_step(client, people, hidden_fields):
    first = _password(client, hidden_fields, "enrolled@example.test", "?next=/admin/../reports/")
    step = first.headers["Location"]
    assert step.startswith("/login/code?next=")
    page = client.get(step)
    done = client.post(step, data={**hidden_fields(page.data),
                                   "code": fresh_totp_code(client, "enrolled@example.test")})
    assert done.status_code == 302 and done.headers["Location"] == "/admin/../reports/"


def test_an_enrolled_lead_needs_the_right_code_and_it_works_once(client, app, people,
                                                                 hidden_fields, session):
    _password(client, hidden_fields, "enrolled@example.test")
    page = client.get("/login/code")
    assert page.status_code == 200 and b'autocomplete="one-time-code"' in page.data
    fields = hidden_fields(page.data)
    wrong = client.post("/login/code", data={**fields, "code": "000000"
                        if mfa.code_at(TOTP_SECRET, moment=utcnow()) != "000000" else "111111"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.data
    assert client.get("/reports/").status_code == 302
    code = mfa.code_at(TOTP_SECRET, moment=utcnow())
    done = client.post("/login/code", data={**fields, "code": code})
    assert done.status_code == 302 and done.headers["Location"] == "/reports/"
    assert client.get("/reports/").status_code == 200
    # The same code again, in another browser with the right password: refused.
    other = app.test_client()
    _password(other, hidden_fields, "enrolled@example.test")
    page = other.get("/login/code")
    replay = other.post("/login/code", data={**hidden_fields(page.data), "code": code})
    assert replay.status_code == 400 and b"has been used" in replay.data
    assert _actions(session) == ["auth.mfa_failed", "auth.login", "auth.mfa_failed"]


def test_a_recovery_code_signs_in_once(client, app, people, hidden_fields, session):
    user = session.exec(select(mfa.User).where(mfa.User.email == "enrolled@example.test")).one()
    codes = mfa.new_recovery_codes(session, user=user)
    session.commit()
    for expected in (302, 400):
        browser = app.test_client()
        _password(browser, hidden_fields, "enrolled@example.test")
        page = browser.get("/login/code")
        result = browser.post("/login/code", data={**hidden_fields(page.data),
                                                   "code": codes[0].upper()})
        assert result.status_code == expected
    session.commit()
    assert '"second_step": "recovery code"' in session.exec(
        select(AuditEvent.detail).where(AuditEvent.action == "auth.login")).one()


def test_a_recorder_is_not_made_to_enrol_but_may(client, people, hidden_fields, session):
    first = _password(client, hidden_fields, "recorder@example.test")
    assert first.headers["Location"] == "/activation/record"
    assert client.get("/activation/record").status_code == 200
    secret, done = _enrol(client, hidden_fields)
    assert done.status_code == 200 and b"Save your recovery codes" in done.data
    assert client.get("/activation/record").status_code == 200  # still signed in
    client.post("/logout", data=_csrf(client, hidden_fields))
    again = _password(client, hidden_fields, "recorder@example.test")
    assert again.headers["Location"] == "/login/code"  # enrolled now: the step applies
    assert client.get("/activation/record").status_code == 302


def _csrf(client, hidden_fields):
    return {"csrf_token": hidden_fields(client.get("/login").data)["csrf_token"]}


def test_an_organisation_sign_in_carries_its_own_mfa(client, people, hidden_fields):
    _password(client, hidden_fields, "enrolled@example.test")
    assert client.get("/reports/").status_code == 302
    with client.session_transaction() as browser:
        browser["pulse_signed_in_by"] = "oidc"
    assert client.get("/reports/").status_code == 200


def test_a_session_without_the_sign_in_marks_is_not_let_through(client, people, login):
    login(client, "enrolled@example.test")
    assert client.get("/reports/").status_code == 200
    with client.session_transaction() as browser:
        browser.pop("pulse_signed_in_by")
        browser.pop("pulse_mfa_passed")
    assert client.get("/reports/").status_code == 302


class TestThrottled:
    @pytest.fixture
    def app_config(self):
        return {"PULSE_LOGIN_ACCOUNT_LIMIT": "3 per minute"}

    def test_codes_are_throttled_per_account_like_passwords(self, client, people,
                                                            hidden_fields):
        _password(client, hidden_fields, "enrolled@example.test")
        fields = hidden_fields(client.get("/login/code").data)
        for _ in range(3):
            assert client.post("/login/code", data={**fields, "code": "99999x"}
                               ).status_code == 400
        locked = client.post("/login/code", data={**fields, "code": fresh_totp_code(
            client, "enrolled@example.test")})
        assert locked.status_code == 429
        assert b"too many codes that did not work" in locked.data
        assert b"try again in a minute" in locked.data
        assert client.get("/reports/").status_code == 302


def test_a_session_ended_elsewhere_is_audited_once(client, app, people, login, hidden_fields,
                                                   session):
    login(client, "enrolled@example.test")
    other = app.test_client()
    login(other, "enrolled@example.test")
    other.post("/logout", data=_csrf(other, hidden_fields))  # ends every session
    assert client.get("/reports/").status_code == 302
    assert client.get("/reports/").status_code == 302
    assert _actions(session) == ["auth.login", "auth.login", "auth.logout",
                                 "auth.session_ended"]


def test_an_admin_removes_a_lost_app_and_the_lead_must_set_up_a_new_one(
        client, app, people, make_user, login, hidden_fields, session):
    lead = app.test_client()
    login(lead, "enrolled@example.test")
    make_user("admin", email="enrolled-admin@example.test")
    login(client, "enrolled-admin@example.test")
    lead_id = session.exec(select(mfa.User.id).where(
        mfa.User.email == "enrolled@example.test")).one()
    page = client.get(f"/admin/users/{lead_id}")
    assert b"Remove two-step sign-in" in page.data
    removed = client.post(f"/admin/users/{lead_id}/two-step/remove",
                          data={"csrf_token": hidden_fields(page.data)["csrf_token"]})
    assert removed.headers["Location"] == f"/admin/users/{lead_id}"
    assert b"set up a new app at their next sign-in" in client.get(
        removed.headers["Location"]).data
    assert lead.get("/reports/").status_code == 302  # signed out everywhere
    _password(lead, hidden_fields, "enrolled@example.test")
    assert lead.get("/login/code").headers["Location"] == "/login/set-up"
    session.commit()
    assert session.exec(select(mfa.RecoveryCode).where(
        mfa.RecoveryCode.user_id == lead_id)).all() == []
    assert "users.remove_two_step" in [e.action for e in session.exec(select(AuditEvent))]


def test_only_admins_remove_two_step_sign_in(client, people, login, hidden_fields, session):
    login(client, "enrolled@example.test")
    token = hidden_fields(client.get("/account/password").data)["csrf_token"]
    lead_id = session.exec(select(mfa.User.id).where(
        mfa.User.email == "enrolled@example.test")).one()
    assert client.post(f"/admin/users/{lead_id}/two-step/remove",
                       data={"csrf_token": token}).status_code == 403
    session.commit()
    assert mfa.is_enrolled(session.get(mfa.User, lead_id))
