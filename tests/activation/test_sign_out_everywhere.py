"""A copied session cookie dies with its session: sign-out, a password change, a role or
scope change and disabling the user each end every session of that user, server-side."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlmodel import select

from survey_app.models import User
from tests.conftest import PASSWORD

COOKIE = "pulse_session"
REPORTS = ("/reports/", "/reports/test-int", "/reports/test-int/overview.csv")
NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
def people(make_site, make_user):
    make_site("RMP")
    make_site("FAR", int_slug="far-int")
    make_user("lead", ints=("test-int", "far-int"))
    make_user("admin")


def copy_session(source: FlaskClient, target: FlaskClient) -> None:
    """What a stolen cookie does: ``target`` now presents ``source``'s session."""
    cookie = source.get_cookie(COOKIE)
    assert cookie is not None
    target.set_cookie(COOKIE, cookie.value)


def reads_reports(client: FlaskClient) -> bool:
    return all(client.get(path).status_code == 200 for path in REPORTS)


def signed_out(client: FlaskClient) -> bool:
    """Every report page sends this client to sign in."""
    for path in REPORTS:
        result = client.get(path)
        if result.status_code != 302 or not result.headers["Location"].startswith("/login"):
            return False
    return True


@pytest.fixture
def lead_and_thief(app, client, people, login):
    """The lead signed in with ``client``; ``thief`` holds a copy of that session cookie."""
    assert login(client, "lead@example.test").status_code == 302
    thief = app.test_client()
    copy_session(client, thief)
    assert reads_reports(client) and reads_reports(thief)
    return client, thief


def csrf(client: FlaskClient, hidden_fields, path: str = "/home") -> str:
    return hidden_fields(client.get(path).data)["csrf_token"]


def test_a_copied_cookie_dies_at_sign_out(app, lead_and_thief, login, hidden_fields):
    lead, thief = lead_and_thief
    assert lead.post("/logout", data={"csrf_token": csrf(lead, hidden_fields)}).status_code == 302
    assert signed_out(thief)
    assert signed_out(lead)
    # Signing in again afterwards works, in a new browser and in the old one.
    again = app.test_client()
    assert login(again, "lead@example.test").status_code == 302 and reads_reports(again)
    assert login(lead, "lead@example.test").status_code == 302 and reads_reports(lead)
    assert signed_out(thief)


def test_sign_out_ends_the_users_other_sessions_too(app, lead_and_thief, login, hidden_fields):
    lead, _ = lead_and_thief
    laptop = app.test_client()
    assert login(laptop, "lead@example.test").status_code == 302
    assert lead.post("/logout", data={"csrf_token": csrf(lead, hidden_fields)}).status_code == 302
    assert signed_out(laptop)


def test_a_replayed_cookie_from_before_sign_out_stays_dead(app, lead_and_thief, login,
                                                            hidden_fields):
    """Signing in again does not revive a session cookie copied before sign-out."""
    lead, thief = lead_and_thief
    lead.post("/logout", data={"csrf_token": csrf(lead, hidden_fields)})
    assert login(lead, "lead@example.test").status_code == 302
    assert signed_out(thief)


def test_a_copied_cookie_dies_at_a_password_change(app, lead_and_thief, login, hidden_fields):
    lead, thief = lead_and_thief
    done = lead.post("/account/password", data={
        "csrf_token": csrf(lead, hidden_fields, "/account/password"),
        "current": PASSWORD, "new": NEW_PASSWORD})
    assert done.status_code == 302
    assert signed_out(thief)
    assert reads_reports(lead)  # the session that changed it carries on
    again = app.test_client()
    assert login(again, "lead@example.test", password=NEW_PASSWORD).status_code == 302
    assert reads_reports(again)


def _admin(app, login) -> FlaskClient:
    admin = app.test_client()
    assert login(admin, "admin@example.test").status_code == 302
    return admin


def _lead_id(session) -> int:
    lead = session.exec(select(User).where(User.email == "lead@example.test")).one()
    assert lead.id is not None
    return lead.id


def _edit_lead(app, session, login, hidden_fields, **fields) -> None:
    admin = _admin(app, login)
    user_id = _lead_id(session)
    page = admin.get(f"/admin/users/{user_id}")
    result = admin.post(f"/admin/users/{user_id}", data={
        "csrf_token": hidden_fields(page.data)["csrf_token"], **fields})
    assert result.status_code == 302, result.data


def test_an_admin_password_reset_ends_the_users_sessions(app, session, lead_and_thief, login,
                                                         hidden_fields):
    lead, thief = lead_and_thief
    admin = _admin(app, login)
    user_id = _lead_id(session)
    page = admin.get(f"/admin/users/{user_id}")
    token = hidden_fields(page.data)["csrf_token"]
    result = admin.post(f"/admin/users/{user_id}/password", data={
        "reset-csrf_token": token, "reset-password": NEW_PASSWORD})
    assert result.status_code == 302
    assert signed_out(lead) and signed_out(thief)
    assert login(lead, "lead@example.test", password=NEW_PASSWORD).status_code == 302
    assert reads_reports(lead)


def test_a_role_change_ends_the_users_sessions(app, session, lead_and_thief, login,
                                               hidden_fields):
    lead, thief = lead_and_thief
    _edit_lead(app, session, login, hidden_fields, role="recorder", active="y",
               sites=["RMP"])
    # Signed out, not merely refused: the old session is no recorder's session either.
    assert signed_out(lead) and signed_out(thief)
    assert lead.get("/activation/record").status_code == 302
    assert thief.get("/activation/record").status_code == 302
    assert login(lead, "lead@example.test").status_code == 302
    assert lead.get("/activation/record").status_code == 200
    assert lead.get("/reports/").status_code == 403


def test_disabling_the_user_ends_their_sessions(app, session, lead_and_thief, login,
                                                hidden_fields):
    lead, thief = lead_and_thief
    _edit_lead(app, session, login, hidden_fields, role="lead",
               ints=["test-int", "far-int"])  # "active" unticked
    assert signed_out(lead) and signed_out(thief)
    assert login(lead, "lead@example.test").status_code == 400
    _edit_lead(app, session, login, hidden_fields, role="lead", active="y",
               ints=["test-int", "far-int"])
    # Enabling the account again does not bring the old sessions back.
    assert signed_out(thief)
    assert login(lead, "lead@example.test").status_code == 302 and reads_reports(lead)


def test_narrowing_the_scope_ends_the_users_sessions(app, session, lead_and_thief, login,
                                                     hidden_fields):
    lead, thief = lead_and_thief
    _edit_lead(app, session, login, hidden_fields, role="lead", active="y", ints=["test-int"])
    assert signed_out(lead) and signed_out(thief)
    assert login(lead, "lead@example.test").status_code == 302
    assert reads_reports(lead)
    assert lead.get("/reports/far-int").status_code == 403


def test_widening_the_scope_keeps_the_users_sessions(app, session, lead_and_thief, login,
                                                     hidden_fields):
    lead, _ = lead_and_thief
    _edit_lead(app, session, login, hidden_fields, role="lead", active="y",
               ints=["test-int", "far-int"])  # unchanged
    assert reads_reports(lead)


def test_an_admin_editing_their_own_scopes_stays_signed_in(app, session, people, login,
                                                           hidden_fields):
    admin = _admin(app, login)
    me = session.exec(select(User).where(User.email == "admin@example.test")).one()
    page = admin.get(f"/admin/users/{me.id}")
    result = admin.post(f"/admin/users/{me.id}", data={
        "csrf_token": hidden_fields(page.data)["csrf_token"], "role": "admin", "active": "y"})
    assert result.status_code == 302
    assert admin.get("/admin/users").status_code == 200


def test_no_remember_cookie_and_an_old_one_would_not_sign_in(app, lead_and_thief,
                                                             hidden_fields):
    """Sign-in sets no remember cookie; one carrying an ended session's id is refused too."""
    from flask_login.utils import encode_cookie

    lead, thief = lead_and_thief
    assert lead.get_cookie("remember_token") is None
    with app.test_request_context():
        remembered = encode_cookie(_session_id(app, thief))
    before = app.test_client()
    before.set_cookie("remember_token", remembered)
    # Such a cookie signs no new browser in even while the session lasts: that browser's
    # session has passed no TOTP step (accounts.access.second_step_pending).
    assert signed_out(before)
    lead.post("/logout", data={"csrf_token": csrf(lead, hidden_fields)})
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered)
    assert signed_out(replay)


def _session_id(app, client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.loads(cookie.value)["_user_id"]
    assert isinstance(value, str) and ":" in value
    return value
