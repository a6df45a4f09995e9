"""Sign-in, throttling, sign-out, password change, and the admin pages for users and kiosks."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from survey_app.activation.sites import enrol_kiosk
from survey_app.core.clock import utcnow
from survey_app.models import AuditEvent, Kiosk, User
from tests.conftest import PASSWORD, TOTP_KEY


@pytest.fixture
def people(make_site, make_user):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    make_user("lead", ints=("test-int",))
    make_user("admin")


@pytest.mark.parametrize("email, home", [
    ("recorder@example.test", "/activation/record"),
    ("lead@example.test", "/reports/"),
    ("admin@example.test", "/admin/users"),
])
def test_each_role_signs_in_to_its_home(client, people, login, email, home):
    result = login(client, email)
    assert result.status_code == 302 and result.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_the_session_cookie_is_httponly_and_samesite(client, people, login):
    cookie = login(client, "admin@example.test").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_outside_development(tmp_path):
    from survey_app.core.config import load_settings

    settings = load_settings(str(tmp_path), {"PULSE_ENV": "production",
                                             "PULSE_SECRET_KEY": "s" * 40})
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_production_hashes_passwords_at_full_strength(tmp_path, monkeypatch):
    from survey_app import create_app
    from survey_app.accounts import users

    monkeypatch.setenv("PULSE_ENV", "production")
    monkeypatch.setenv("PULSE_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PULSE_TOTP_KEY", TOTP_KEY)
    monkeypatch.setenv("PULSE_DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    try:
        production = create_app()
        assert not production.testing
        assert users.password_hash_profile() == "strong"
        # RFC 9106's low-memory argon2id: 64 MiB, 3 passes, 4 lanes.
        assert users.hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        users.use_password_hash_profile("cheapest")


def test_the_suite_alone_hashes_cheaply(app):
    from survey_app.accounts import users

    assert app.testing and users.password_hash_profile() == "cheapest"
    assert users.hash_password(PASSWORD).startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_a_cheap_hash_is_made_strong_at_the_next_sign_in(session, make_user):
    from survey_app.accounts import users

    user = make_user("admin")
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    users.use_password_hash_profile("strong")
    try:
        assert users.authenticate(session, email=user.email, password=PASSWORD) == user
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        users.use_password_hash_profile("cheapest")


def test_a_wrong_password_is_refused_without_saying_which_part(client, people, login):
    result = login(client, "admin@example.test", password="wrong password here")
    assert result.status_code == 400
    assert b"The email address or password is not right" in result.data
    unknown = login(client, "nobody@example.test", password="wrong password here")
    assert b"The email address or password is not right" in unknown.data


def test_sign_in_is_throttled_per_account(client, people, login, app):
    statuses = [login(client, "admin@example.test", password="guess " * 3).status_code
                for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    # Another client guessing the same account is throttled too...
    other = app.test_client()
    assert login(other, "admin@example.test", password="guess again!!").status_code == 429
    # ...while other accounts still work from it.
    assert login(other, "lead@example.test").status_code == 302


@pytest.mark.parametrize("app_config", [{"PULSE_LOGIN_CLIENT_LIMIT": "3 per minute",
                                         "PULSE_LOGIN_ACCOUNT_LIMIT": "100 per minute"}])
def test_sign_in_is_throttled_per_client(client, people, login):
    statuses = [login(client, f"user{i}@example.test", password="guess guess!").status_code
                for i in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_sign_out_ends_the_session(client, people, login, hidden_fields):
    login(client, "admin@example.test")
    fields = hidden_fields(client.get("/admin/users").data)
    assert client.post("/logout", data={"csrf_token": fields["csrf_token"]}).status_code == 302
    assert client.get("/admin/users").status_code == 302


def test_sign_out_needs_the_form_token(client, people, login):
    login(client, "admin@example.test")
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/users").status_code == 200


def test_changing_the_password_signs_out_other_sessions(client, app, people, login,
                                                        hidden_fields):
    login(client, "lead@example.test")
    elsewhere = app.test_client()
    login(elsewhere, "lead@example.test")
    page = client.get("/account/password")
    fields = hidden_fields(page.data)
    short = client.post("/account/password", data={**fields, "current": PASSWORD,
                                                   "new": "short"})
    assert short.status_code == 400 and b"at least 12 characters" in short.data
    wrong = client.post("/account/password", data={**fields, "current": "not it at all",
                                                   "new": "a much longer passphrase"})
    assert wrong.status_code == 400 and b"current password is not right" in wrong.data
    done = client.post("/account/password", data={**fields, "current": PASSWORD,
                                                  "new": "a much longer passphrase"})
    assert done.status_code == 302
    assert client.get("/home").status_code == 200
    assert elsewhere.get("/home").status_code == 302
    assert login(app.test_client(), "lead@example.test",
                 password="a much longer passphrase").status_code == 302


# A browser reads "/\\host" as "//host": each of these would leave Pulse.
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/",
                                    "/\\evil.example/", "/\\/evil.example", "/%0a/evil"])
def test_open_redirects_are_ignored(client, people, login, target):
    result = login(client, "admin@example.test", next_path=target.replace("%0a", "\n"))
    assert result.headers["Location"] == "/admin/users"


@pytest.mark.parametrize("path", ["/admin/users", "/admin/kiosks", "/kiosk/enrol",
                                  "/admin/ints/test-int"])
def test_admin_pages_refuse_others(client, people, login, path):
    assert client.get(path).status_code == 302  # anonymous: sign in first
    login(client, "lead@example.test")
    assert client.get(path).status_code == 403


def test_recorders_see_no_admin_or_other_sites(client, people, login, make_site):
    make_site("FAR", int_slug="other-int")
    login(client, "recorder@example.test")
    assert client.get("/sites/FAR/poster").status_code == 404
    assert client.get("/admin/users").status_code == 403


def test_an_admin_adds_a_user_and_edits_scopes(client, session, people, login, hidden_fields):
    login(client, "admin@example.test")
    fields = hidden_fields(client.get("/admin/users").data)
    bad = client.post("/admin/users", data={**fields, "email": "nurse@example.test",
                                            "role": "recorder", "password": PASSWORD})
    assert bad.status_code == 400 and b"at least one site" in bad.data
    ok = client.post("/admin/users", data={**fields, "email": "Nurse@Example.test",
                                           "role": "recorder", "sites": ["RMP"],
                                           "password": PASSWORD})
    assert ok.status_code == 302
    nurse = session.exec(select(User).where(User.email == "nurse@example.test")).one()
    page = client.get(f"/admin/users/{nurse.id}")
    edit = client.post(f"/admin/users/{nurse.id}", data={
        **hidden_fields(page.data), "role": "lead", "ints": ["test-int"]})
    assert edit.status_code == 302
    session.expire_all()
    nurse = session.get(User, nurse.id)
    assert nurse.role == "lead" and nurse.active is False  # box unticked: disabled
    actions = [e.action for e in session.exec(select(AuditEvent))]
    assert "users.create" in actions and "users.update" in actions


def test_an_admin_revokes_a_kiosk(client, session, people, login, hidden_fields):
    from survey_app.activation.sites import find_site

    kiosk, _ = enrol_kiosk(session, site=find_site(session, code="RMP"), name="Tablet",
                           ask_experience=False, now=utcnow())
    session.commit()
    login(client, "admin@example.test")
    page = client.get("/admin/kiosks")
    assert b"Tablet" in page.data
    result = client.post(f"/admin/kiosks/{kiosk.id}/revoke",
                         data={"csrf_token": hidden_fields(page.data)["csrf_token"]})
    assert result.status_code == 302
    session.expire_all()
    assert session.get(Kiosk, kiosk.id).revoked_at is not None


def test_users_create_cli_sets_role_and_scopes(runner, session, make_site):
    make_site("RMP")
    result = runner.invoke(args=["users", "create", "clin@example.test", "--role", "recorder",
                                 "--site", "rmp"], env={"PULSE_NEW_USER_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert "Created recorder clin@example.test" in result.output
    bad = runner.invoke(args=["users", "create", "x@example.test", "--role", "lead",
                              "--int", "nope"], env={"PULSE_NEW_USER_PASSWORD": PASSWORD})
    assert bad.exit_code != 0 and "No INT 'nope'" in bad.output
    prompted = runner.invoke(args=["users", "create", "y@example.test", "--role", "admin"],
                             input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output


def test_site_list_and_activation_summary_cli(runner, client, make_site, hidden_fields):
    make_site("RMP")
    sites = json.loads(runner.invoke(args=["site", "list", "--json"]).output)
    assert sites == [{"code": "RMP", "name": "Site RMP", "kind": "gp_practice",
                      "int": "test-int"}]
    for rating in ("1", "4"):
        client.delete_cookie("pulse_qr")
        page = client.get("/q/RMP")
        client.post("/q/RMP", data={**hidden_fields(page.data), "rating": rating})
    summary = json.loads(runner.invoke(args=["activation", "summary", "--int", "test-int",
                                             "--json"]).output)
    assert summary["total"] == 2
    assert summary["by_rating"] == {"1": 1, "2": 0, "3": 0, "4": 1}
    assert summary["by_channel"]["qr"] == 2
    missing = runner.invoke(args=["activation", "summary", "--int", "nope"])
    assert missing.exit_code != 0 and "No INT 'nope'" in missing.output


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_limits():
    """Rate limits kept in Redis (db 15, emptied after), as several workers would share them."""
    from tests.conftest import reachable_redis

    client = reachable_redis(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": REDIS_URL}])
def test_limits_are_shared_through_redis(redis_limits, app, people, login):
    from survey_app import create_app
    from survey_app.core.db import get_engine
    from tests.conftest import _test_config

    # A second app (another worker) sees the first one's failed attempts.
    other_worker = create_app(_test_config(app.config["SQLALCHEMY_DATABASE_URI"],
                                           RATELIMIT_STORAGE_URI=REDIS_URL))
    first, second = app.test_client(), other_worker.test_client()
    for _ in range(3):
        assert login(first, "admin@example.test", password="guess guess!").status_code == 400
    for _ in range(2):
        assert login(second, "admin@example.test", password="guess guess!").status_code == 400
    assert login(second, "admin@example.test", password="guess guess!").status_code == 429
    assert redis_limits.dbsize() > 0
    get_engine(other_worker).dispose()


def test_an_admin_sets_the_ints_fatigue_guardrails(client, session, people, login,
                                                   hidden_fields):
    from survey_app.models import Neighbourhood
    from survey_app.reporting.actions import stages_of

    login(client, "admin@example.test")
    page = client.get("/admin/ints/test-int")
    fields = hidden_fields(page.data)
    assert 'value="Plan,Do,Study,Act"' in page.data.decode()
    bad = client.post("/admin/ints/test-int", data={**fields, "invitation_gap_days": "3",
                                                    "max_messages_per_wave": "5",
                                                    "action_stages": "Plan,,Act"})
    assert bad.status_code == 400
    assert b"between 14 and 365 days" in bad.data and b"1 (invitation only)" in bad.data
    assert b"leave none empty" in bad.data
    ok = client.post("/admin/ints/test-int", data={**fields, "invitation_gap_days": "28",
                                                   "max_messages_per_wave": "1",
                                                   "low_activation_prompt": "Offer coaching",
                                                   "action_stages": " Aim , Test,Adopt "})
    assert ok.status_code == 302
    session.expire_all()
    neighbourhood = session.exec(select(Neighbourhood)).one()
    assert (neighbourhood.invitation_gap_days, neighbourhood.max_messages_per_wave,
            neighbourhood.low_activation_prompt) == (28, 1, "Offer coaching")
    assert stages_of(neighbourhood) == ["Aim", "Test", "Adopt"]


@pytest.mark.parametrize("path", ["/admin/users/99999999999999999999999",
                                  "/admin/outbox?page=99999999999999999999999"])
def test_absurd_ids_and_pages_are_not_found(client, people, login, path):
    login(client, "admin@example.test")
    assert client.get(path).status_code == 404


def test_a_leads_home_links_only_to_pages_a_lead_may_open(client, people, login):
    login(client, "lead@example.test")
    html = client.get("/home").data.decode()
    assert "/activation/record" not in html
    assert client.get("/activation/posters").status_code == 200


def test_a_locked_out_sign_in_says_when_to_try_again_and_what_to_do(client, people, login):
    for _ in range(5):
        assert login(client, "admin@example.test", password="guess " * 3).status_code == 400
    locked = login(client, "admin@example.test", password="guess " * 3)
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    # Not a dead end: when to try again (the per-account limit is 5 a minute), what to do
    # about a forgotten password, and the form to try with.
    assert "signing in is paused: try again in a minute" in page
    assert "Forgotten your password? Ask your INT's Pulse admin to reset it." in page
    assert 'name="password"' in page


def test_failed_sign_ins_are_audited_without_what_was_typed(client, people, login, session):
    login(client, "admin@example.test", password="wrong password here")
    login(client, "nobody@example.test", password="secret typed in the wrong box")
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == "auth.login_failed").order_by(AuditEvent.id)).all()
    admin = session.exec(select(User).where(User.email == "admin@example.test")).one()
    assert [e.user_id for e in events] == [admin.id, None]
    assert all(e.target is None and e.detail is None for e in events)
