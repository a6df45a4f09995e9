"""The admin's sign-in page: local passwords can be turned off only while organisation
sign-in is set up, and once off no password signs anyone in."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.accounts import local_passwords
from survey_app.accounts.oidc import OidcSettings
from survey_app.models import AppSetting, AuditEvent
from tests.conftest import PASSWORD

SETTINGS = OidcSettings(issuer="https://login.microsoftonline.com/tenant-id/v2.0",
                        client_id="pulse-app", client_secret="s3cret",
                        button_label="Sign in with NHSmail", allowed_domains=("nhs.net",),
                        leeway_seconds=60)


@pytest.fixture
def admin_client(client, make_user, login):
    make_user("admin")
    assert login(client, "admin@example.test").status_code == 302
    return client


def _save(client, hidden_fields, value):
    fields = hidden_fields(client.get("/admin/sign-in").data)
    return client.post("/admin/sign-in", data={**fields, "local_passwords": value})


class TestWithOrganisationSignIn:
    @pytest.fixture
    def app_config(self):
        return {"PULSE_OIDC": SETTINGS}

    def test_an_admin_turns_passwords_off_and_no_password_then_signs_in(
            self, app, admin_client, session, hidden_fields, login):
        other = app.test_client()
        # A CSRF token from before passwords went off: the refusal below is Pulse's, not
        # the missing token's.
        before = hidden_fields(other.get("/login").data)
        page = admin_client.get("/admin/sign-in").data.decode()
        assert "Organisation sign-in is set up" in page and SETTINGS.issuer in page
        assert "http://pulse.test/login/oidc/callback" in page
        saved = _save(admin_client, hidden_fields, "off")
        assert saved.status_code == 302 and saved.headers["Location"] == "/admin/sign-in"
        assert session.get(AppSetting, "local_passwords").value == "off"
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "settings.local_passwords")).one()
        assert event.detail == '{"local_passwords": "off"}'

        login_page = other.get("/login").data.decode()
        assert 'name="password"' not in login_page and "Sign in with NHSmail" in login_page
        refused = other.post("/login", data={**before, "email": "admin@example.test",
                                             "password": PASSWORD})
        assert refused.status_code == 403
        assert "Signing in with a Pulse password is turned off" in refused.data.decode()
        with other.session_transaction() as browser_session:
            assert "_user_id" not in browser_session

        assert _save(admin_client, hidden_fields, "on").status_code == 302
        assert login(app.test_client(), "admin@example.test").status_code == 302

    def test_a_choice_that_is_not_offered_gets_a_message(self, admin_client, hidden_fields):
        refused = _save(admin_client, hidden_fields, "sometimes")
        assert refused.status_code == 400
        assert "Choose whether people can sign in with a Pulse password" in refused.data.decode()


class TestWithoutOrganisationSignIn:
    @pytest.fixture
    def app_config(self):
        return {"PULSE_OIDC": None}

    def test_passwords_cannot_be_turned_off(self, app, admin_client, session, hidden_fields,
                                            login):
        page = admin_client.get("/admin/sign-in").data.decode()
        assert "Organisation sign-in is not set up" in page
        refused = _save(admin_client, hidden_fields, "off")
        assert refused.status_code == 400
        assert "cannot be turned off until organisation sign-in is set up" in (
            refused.data.decode())
        assert session.get(AppSetting, "local_passwords") is None
        assert login(app.test_client(), "admin@example.test").status_code == 302

    def test_passwords_stay_on_if_organisation_sign_in_goes_away(self, app, session, make_user,
                                                                 login):
        # Turned off while it was set up, then the OIDC settings were removed: passwords
        # are the only way in, so they work.
        local_passwords.set_on(session, on=False, organisation_sign_in=True)
        session.commit()
        make_user("admin")
        assert login(app.test_client(), "admin@example.test").status_code == 302


@pytest.mark.parametrize("role", ["lead", "recorder"])
def test_only_an_admin_opens_the_page(client, make_team, make_user, login, role):
    make_team()
    make_user(role, ints=("test-int",))
    login(client, f"{role}@example.test")
    assert client.get("/admin/sign-in").status_code in (302, 403)
