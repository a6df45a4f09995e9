"""PULSE_OIDC_* settings: what is accepted, and the message for each thing refused."""

from __future__ import annotations

import pytest

from survey_app.accounts.oidc import OidcSettings, email_claim, settings_from_env
from survey_app.core.config_error import ConfigError

TENANT = "https://login.microsoftonline.com/0b1e7c55-6b0a-4f5e-9e3a-2d7c1f0a9b11/v2.0"
GOOD = {"PULSE_OIDC_ISSUER": TENANT, "PULSE_OIDC_CLIENT_ID": "pulse-app",
        "PULSE_OIDC_CLIENT_SECRET": "s3cret", "PULSE_OIDC_ALLOWED_DOMAINS": "nhs.net"}


def test_nothing_set_means_no_organisation_sign_in():
    assert settings_from_env({}) is None


def test_the_settings_with_their_defaults():
    settings = settings_from_env({**GOOD, "PULSE_OIDC_ALLOWED_DOMAINS": " NHS.net, @nhs.uk "})
    assert settings == OidcSettings(issuer=TENANT, client_id="pulse-app", client_secret="s3cret",
                                    button_label="Sign in with NHSmail",
                                    allowed_domains=("nhs.net", "nhs.uk"), leeway_seconds=60)
    assert settings.metadata_url == TENANT + "/.well-known/openid-configuration"


def test_a_label_and_leeway_of_ones_own():
    settings = settings_from_env({**GOOD, "PULSE_OIDC_BUTTON_LABEL": "Sign in with NHS CIS2",
                                  "PULSE_OIDC_LEEWAY_SECONDS": "300"})
    assert (settings.button_label, settings.leeway_seconds) == ("Sign in with NHS CIS2", 300)


def test_http_is_accepted_on_loopback_only():
    assert settings_from_env({**GOOD, "PULSE_OIDC_ISSUER": "http://127.0.0.1:9000"})
    with pytest.raises(ConfigError, match="must be the provider's https URL"):
        settings_from_env({**GOOD, "PULSE_OIDC_ISSUER": "http://login.example.org"})


@pytest.mark.parametrize(("change", "message"), [
    ({"PULSE_OIDC_ISSUER": ""}, "PULSE_OIDC_ALLOWED_DOMAINS, PULSE_OIDC_CLIENT_ID, "
                                "PULSE_OIDC_CLIENT_SECRET set without PULSE_OIDC_ISSUER"),
    ({"PULSE_OIDC_ISSUER": "login.microsoftonline.com"}, "must be the provider's https URL"),
    ({"PULSE_OIDC_ISSUER": TENANT + "?x=1"}, "must have no query or fragment"),
    ({"PULSE_OIDC_CLIENT_ID": " "}, "PULSE_OIDC_CLIENT_ID must be set"),
    ({"PULSE_OIDC_CLIENT_SECRET": ""}, "PULSE_OIDC_CLIENT_SECRET must be set"),
    ({"PULSE_OIDC_ALLOWED_DOMAINS": " , "}, "PULSE_OIDC_ALLOWED_DOMAINS must name"),
    ({"PULSE_OIDC_ALLOWED_DOMAINS": "nhs.net, not a domain"}, "'not a domain' is not an email"),
    ({"PULSE_OIDC_LEEWAY_SECONDS": "a minute"}, "must be a whole number, got 'a minute'"),
    ({"PULSE_OIDC_LEEWAY_SECONDS": "301"}, "must be 0 to 300, got 301"),
    ({"PULSE_OIDC_LEEWAY_SECONDS": "-1"}, "must be 0 to 300, got -1"),
])
def test_a_bad_setting_is_refused_by_name(change, message):
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        settings_from_env({**GOOD, **change})


def test_a_bad_setting_stops_the_app(monkeypatch, tmp_path):
    from survey_app import create_app

    monkeypatch.setenv("PULSE_OIDC_ISSUER", TENANT)
    with pytest.raises(ConfigError, match="PULSE_OIDC_CLIENT_ID must be set"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "SECRET_KEY": "k" * 40})


@pytest.mark.parametrize(("claims", "email"), [
    ({"email": " Lead@NHS.net "}, "lead@nhs.net"),
    ({"preferred_username": "lead@nhs.net"}, "lead@nhs.net"),  # Entra ID without `email`
    ({"email": "lead@nhs.net", "preferred_username": "other@nhs.net"}, "lead@nhs.net"),
    ({"preferred_username": "LEAD"}, None),
    ({"email": 7}, None),
    ({}, None),
])
def test_the_email_a_token_names(claims, email):
    assert email_claim(claims) == email


@pytest.mark.parametrize(("verified", "links"), [(False, False), (True, True), (None, True)])
def test_an_unverified_email_claims_no_account(session, make_user, make_team, verified,
                                               links):
    # Entra sends no email_verified (None here); a provider saying false is believed.
    from sqlmodel import select

    from survey_app.accounts import oidc
    from survey_app.core.clock import utcnow
    from survey_app.models import AuditEvent, User

    make_team()
    make_user("lead", email="lead@nhs.net", ints=("test-int",))
    settings = settings_from_env(GOOD)
    claims = {"iss": TENANT, "sub": "subject-1", "email": "lead@nhs.net"}
    if verified is not None:
        claims["email_verified"] = verified
    if links:
        assert oidc.sign_in(session, settings=settings, claims=claims, now=utcnow()).email \
            == "lead@nhs.net"
    else:
        with pytest.raises(oidc.SignInRefused) as refused:
            oidc.sign_in(session, settings=settings, claims=claims, now=utcnow())
        assert refused.value.reason == "email_unverified"
        assert "not verified" in str(refused.value)
    user = session.exec(select(User).where(User.email == "lead@nhs.net")).one()
    assert (user.oidc_subject is not None) is links
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == ("auth.oidc_login" if links else "auth.oidc_refused"))).first()
