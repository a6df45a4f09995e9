"""Password reset by email: one answer for every address, a link that works once for 30
minutes, an admin sending it, TOTP still asked afterwards, masked in logs, audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from survey_app.accounts import password_reset, password_reset_views
from survey_app.core.clock import utcnow
from survey_app.core.logs import mask_secrets
from survey_app.models import AuditEvent
from tests.conftest import fresh_totp_code

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def people(make_site, make_user):
    make_site("RMP")
    make_user("lead", ints=("test-int",))
    make_user("admin")


@pytest.fixture
def outbox(app):
    return app.extensions["pulse_account_mailer"].messages


def _ask(client, hidden_fields, email):
    fields = hidden_fields(client.get("/login/forgotten").data)
    return client.post("/login/forgotten", data={**fields, "email": email})


def _link(message) -> str:
    [link] = re.findall(r"http://pulse\.test(/reset-password/\S+)", message.text)
    return link


def _choose(client, hidden_fields, link, password=NEW_PASSWORD):
    page = client.get(link)
    assert page.status_code == 200, page.data
    return client.post(link, data={**hidden_fields(page.data), "new": password})


def _actions(session):
    session.commit()  # a fresh look: the app committed in its own sessions
    return [(e.action, e.user_id, e.target) for e in
            session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
        client, people, hidden_fields, outbox, session):
    known = _ask(client, hidden_fields, "lead@example.test")
    unknown = _ask(client, hidden_fields, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    assert (known.data.decode().replace("lead@example.test", "EMAIL")
            == unknown.data.decode().replace("nobody@example.test", "EMAIL"))
    assert "If lead@example.test has a Pulse account" in known.data.decode()
    assert [m.to for m in outbox] == ["lead@example.test"]
    assert "within 30 minutes" in outbox[0].text and "authenticator app" in outbox[0].text
    lead_id = session.exec(select(password_reset.User.id).where(
        password_reset.User.email == "lead@example.test")).one()
    assert [a for a, _, _ in _actions(session)] == ["auth.reset_requested"] * 2
    assert [u for _, u, _ in _actions(session)] == [lead_id, None]


def test_a_bad_address_gets_a_clear_message(client, people, hidden_fields, outbox):
    empty = _ask(client, hidden_fields, "")
    assert empty.status_code == 400 and b"Enter your email address" in empty.data
    assert outbox == []


def test_the_link_works_once_and_signs_nobody_in(client, app, people, hidden_fields, outbox,
                                                 login, session):
    _ask(client, hidden_fields, "lead@example.test")
    link = _link(outbox[0])
    done = _choose(client, hidden_fields, link)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert client.get("/reports/").status_code == 302
    again = client.get(link)
    assert again.status_code == 400 and b"already been used" in again.data
    assert client.post(link, data={"new": "yet another passphrase"}).status_code == 400
    assert login(app.test_client(), "lead@example.test").status_code == 400  # old: refused
    assert login(app.test_client(), "lead@example.test",
                 password=NEW_PASSWORD).headers["Location"] == "/reports/"
    assert [a for a, _, _ in _actions(session)] == [
        "auth.reset_requested", "auth.reset_completed", "auth.login_failed", "auth.login"]


def test_a_reset_never_skips_the_totp_step(client, app, people, hidden_fields, outbox):
    _ask(client, hidden_fields, "lead@example.test")
    _choose(client, hidden_fields, _link(outbox[0]))
    browser = app.test_client()
    fields = hidden_fields(browser.get("/login").data)
    step = browser.post("/login", data={**fields, "email": "lead@example.test",
                                        "password": NEW_PASSWORD})
    assert step.headers["Location"] == "/login/code"
    assert browser.get("/reports/").status_code == 302
    page = browser.get("/login/code")
    done = browser.post("/login/code", data={**hidden_fields(page.data),
                                             "code": fresh_totp_code(browser,
                                                                     "lead@example.test")})
    assert done.headers["Location"] == "/reports/"
    assert browser.get("/reports/").status_code == 200


def test_a_weak_new_password_is_refused_and_the_link_still_works(client, people,
                                                                  hidden_fields, outbox):
    _ask(client, hidden_fields, "lead@example.test")
    link = _link(outbox[0])
    weak = _choose(client, hidden_fields, link, password="short")
    assert weak.status_code == 400 and b"at least 12 characters" in weak.data
    assert _choose(client, hidden_fields, link).status_code == 302


@pytest.mark.parametrize(("minutes", "works"), [(29, True), (31, False)])
def test_the_link_expires_after_30_minutes(client, people, hidden_fields, outbox,
                                           monkeypatch, minutes, works):
    _ask(client, hidden_fields, "lead@example.test")
    later = utcnow() + timedelta(minutes=minutes)
    monkeypatch.setattr(password_reset_views, "utcnow", lambda: later)
    page = client.get(_link(outbox[0]))
    assert page.status_code == (200 if works else 400)
    if not works:
        assert b"This link has expired: links work for 30 minutes" in page.data


@pytest.mark.parametrize("tampered", ["not-a-token", "eyJ1IjoxfQ.bad-signature"])
def test_a_tampered_link_is_refused_clearly(client, people, tampered):
    page = client.get(f"/reset-password/{tampered}")
    assert page.status_code == 400 and b"not a working password reset link" in page.data


def test_a_link_made_with_another_secret_key_is_refused(app, session, people):
    lead = session.exec(select(password_reset.User).where(
        password_reset.User.email == "lead@example.test")).one()
    token = password_reset.make_token(lead, secret_key="another-key-" + "x" * 40, now=utcnow())
    with pytest.raises(password_reset.ResetError, match="not a working"):
        password_reset.user_for_token(session, token=token,
                                      secret_key=app.config["SECRET_KEY"], now=utcnow())


def test_an_admin_sends_the_link_from_the_users_page(client, people, login, hidden_fields,
                                                     outbox, session):
    login(client, "admin@example.test")
    lead_id = session.exec(select(password_reset.User.id).where(
        password_reset.User.email == "lead@example.test")).one()
    page = client.get(f"/admin/users/{lead_id}")
    assert b"Send reset link" in page.data
    sent = client.post(f"/admin/users/{lead_id}/reset-link",
                       data={"csrf_token": hidden_fields(page.data)["csrf_token"]})
    assert sent.status_code == 302 and sent.headers["Location"] == f"/admin/users/{lead_id}"
    assert [m.to for m in outbox] == ["lead@example.test"]
    assert "A password reset link has been sent to lead@example.test" in client.get(
        sent.headers["Location"]).data.decode()
    admin_id = session.exec(select(password_reset.User.id).where(
        password_reset.User.email == "admin@example.test")).one()
    assert ("users.send_reset", admin_id, "lead@example.test") in _actions(session)
    assert client.post(f"/admin/users/{lead_id}/reset-link").status_code == 400  # no CSRF
    assert client.post("/admin/users/999/reset-link", data={
        "csrf_token": hidden_fields(page.data)["csrf_token"]}).status_code == 404


def test_a_lead_cannot_send_reset_links(client, people, login, hidden_fields, outbox,
                                        session):
    login(client, "lead@example.test")
    token = hidden_fields(client.get("/account/password").data)["csrf_token"]
    lead_id = session.exec(select(password_reset.User.id)).first()
    assert client.post(f"/admin/users/{lead_id}/reset-link", data={"csrf_token": token}
                       ).status_code == 403
    assert outbox == []


def test_reset_tokens_are_masked_in_the_request_log(client, people, hidden_fields, outbox,
                                                    caplog):
    _ask(client, hidden_fields, "lead@example.test")
    link = _link(outbox[0])
    token = link.rsplit("/", 1)[1]
    line = f'127.0.0.1 - - "GET {link} HTTP/1.1" 200 -'
    assert mask_secrets(line) == '127.0.0.1 - - "GET /reset-password/[link] HTTP/1.1" 200 -'
    caplog.set_level("INFO", logger="survey_app.requests")
    client.get(link)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/reset-password/[link]" in logged and token not in logged


def test_without_email_the_admin_is_told_no_link_was_sent(app, client, people, login,
                                                          hidden_fields, session):
    # Production without PULSE_SMTP_HOST: the only "mailer" logs that it cannot send.
    from survey_app.accounts.password_reset_views import MAILER
    from survey_app.models import AuditEvent

    app.extensions[MAILER] = password_reset.no_mailer
    login(client, "admin@example.test")
    lead_id = session.exec(select(password_reset.User.id).where(
        password_reset.User.email == "lead@example.test")).one()
    page = client.get(f"/admin/users/{lead_id}")
    sent = client.post(f"/admin/users/{lead_id}/reset-link",
                       data={"csrf_token": hidden_fields(page.data)["csrf_token"]})
    shown = client.get(sent.headers["Location"]).data.decode()
    assert "Email is not set up (PULSE_SMTP_HOST), so no link was sent to lead@example.test" \
        in shown
    assert "has been sent" not in shown
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "users.send_reset")).all() == []
