"""Organisation sign-in against a real OpenID Provider on loopback (npm's oidc-provider).

Each refusal is checked for its page, its status, nothing signed in and its audit record.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent
from tests.accounts import oidc_loopback
from tests.accounts.oidc_loopback import PULSE, log_in_at_provider

# The loopback provider's fixtures, for this module's tests.
oidc_provider = oidc_loopback.oidc_provider
provider = oidc_loopback.provider


@pytest.fixture
def app_config(oidc_provider):
    return {"PULSE_OIDC": oidc_provider.settings()}


@pytest.fixture
def lead(make_team, make_user):
    make_team()
    return make_user("lead", email="lead@nhs.net", ints=("test-int",))


def _start(client):
    started = client.get("/login/oidc")
    assert started.status_code == 302, started.data
    return started.headers["Location"]


def _callback_path(url):
    parts = urlsplit(url)
    assert url.startswith(PULSE + "/login/oidc/callback"), url
    return f"{parts.path}?{parts.query}"


def _sign_in(client, sub):
    return client.get(_callback_path(log_in_at_provider(_start(client), sub)))


def _signed_in(client):
    with client.session_transaction() as browser_session:
        return browser_session.get("_user_id")


def _events(session, action):
    session.expire_all()
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)
                        .order_by(AuditEvent.id)).all()


def _refusal(session):
    events = _events(session, "auth.oidc_refused")
    assert len(events) == 1, events
    return events[0]


def test_the_sign_in_page_shows_the_configured_button(client):
    page = client.get("/login").data.decode()
    assert 'href="/login/oidc"' in page and "Sign in with NHSmail" in page
    assert 'name="password"' in page  # local passwords stay unless turned off


def test_start_asks_for_a_code_with_pkce_state_and_nonce(client, provider):
    location = _start(client)
    assert location.startswith(provider.issuer + "/auth?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == "http://pulse.test/login/oidc/callback"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20


def test_first_sign_in_links_by_email_and_later_ones_by_issuer_and_subject(
        app, client, session, provider, lead, make_user):
    other = make_user("lead", email="other@nhs.net", ints=("test-int",))
    provider.add_account("entra-object-1", "lead@nhs.net")
    landed = _sign_in(client, "entra-object-1")
    assert landed.status_code == 302 and landed.headers["Location"] == "/reports/"
    with client.session_transaction() as browser_session:
        assert browser_session["pulse_signed_in_by"] == "oidc"
    assert client.get("/reports/").status_code == 200  # no TOTP step after an organisation's
    session.refresh(lead)
    assert (lead.oidc_issuer, lead.oidc_subject) == (provider.issuer, "entra-object-1")
    assert lead.role == "lead"  # signing in changes no role

    # The provider now says another user's email for the same person: still the lead.
    provider.add_account("entra-object-1", "other@nhs.net")
    second = app.test_client()
    assert _sign_in(second, "entra-object-1").headers["Location"] == "/reports/"
    assert _signed_in(second).startswith(f"{lead.id}:")
    logins = _events(session, "auth.oidc_login")
    assert [(e.user_id, e.detail) for e in logins] == [(lead.id, '{"linked": true}'),
                                                       (lead.id, None)]
    session.refresh(other)
    assert other.oidc_subject is None


def test_another_identity_claiming_a_linked_accounts_email_is_refused(
        app, client, session, provider, lead):
    provider.add_account("entra-object-1", "lead@nhs.net")
    assert _sign_in(client, "entra-object-1").status_code == 302
    provider.add_account("entra-object-2", "lead@nhs.net")
    intruder = app.test_client()
    refused = _sign_in(intruder, "entra-object-2")
    assert refused.status_code == 403
    assert "already linked to another organisation account" in refused.data.decode()
    assert _signed_in(intruder) is None
    event = _refusal(session)
    assert (event.user_id, event.target, event.detail) == (
        lead.id, "lead@nhs.net", '{"reason": "linked_elsewhere"}')


@pytest.mark.parametrize(("email", "setup", "reason", "words"), [
    ("nobody@nhs.net", None, "unknown_user", "There is no Pulse account for your email"),
    ("lead@nhs.net", "disable", "disabled", "Your Pulse account has been turned off"),
    ("lead@example.test", "outside", "domain_not_allowed",
     "only from its allowed email domains"),
])
def test_an_account_pulse_will_not_sign_in_is_refused_and_audited(
        client, session, provider, make_team, make_user, email, setup, reason,
        words):
    make_team()
    user = make_user("lead", email="lead@nhs.net" if setup != "outside" else email,
                     ints=("test-int",))
    if setup == "disable":
        user.active = False
        session.add(user)
        session.commit()
    provider.add_account("entra-object-9", email)
    refused = _sign_in(client, "entra-object-9")
    assert refused.status_code == 403
    assert words in refused.data.decode()
    assert f'data-reason="{reason}"' in refused.data.decode()
    assert _signed_in(client) is None
    assert client.get("/reports/").status_code == 302  # to the sign-in page
    event = _refusal(session)
    assert (event.target, event.detail) == (email, f'{{"reason": "{reason}"}}')
    session.refresh(user)
    assert user.oidc_subject is None


@pytest.mark.parametrize(("mode", "reason", "status"), [
    ("altered", "bad_signature", 400),  # the payload changed after signing
    ("foreign_key", "bad_signature", 400),  # signed with a key not in the JWKS
    ("nonce", "wrong_nonce", 400),
    ("expired", "expired", 400),  # expired an hour ago: beyond the 60 s leeway
    ("issuer", "wrong_issuer", 403),
    ("audience", "wrong_audience", 403),
])
def test_a_doctored_id_token_is_refused_with_nothing_signed_in(
        client, session, provider, lead, mode, reason, status):
    provider.add_account("entra-object-1", "lead@nhs.net")
    provider.tamper(mode)
    refused = _sign_in(client, "entra-object-1")
    assert refused.status_code == status
    assert "You have not been signed in" in refused.data.decode()
    assert f'data-reason="{reason}"' in refused.data.decode()
    assert _signed_in(client) is None
    assert client.get("/reports/").status_code == 302
    event = _refusal(session)
    assert (event.user_id, event.detail) == (None, f'{{"reason": "{reason}"}}')
    session.refresh(lead)
    assert lead.oidc_subject is None
    assert _events(session, "auth.oidc_login") == []


def test_an_honest_token_passes_the_same_checks(client, provider, lead):
    # The control for the doctored tokens above: the same flow, tamper mode off.
    provider.add_account("entra-object-1", "lead@nhs.net")
    provider.tamper("")
    assert _sign_in(client, "entra-object-1").status_code == 302


def test_a_replayed_or_foreign_state_is_refused(app, client, session, provider,
                                                lead):
    provider.add_account("entra-object-1", "lead@nhs.net")
    callback = _callback_path(log_in_at_provider(_start(client), "entra-object-1"))
    assert client.get(callback).status_code == 302
    # Someone else's browser replays it, having started a sign-in of its own (login CSRF).
    attacker = app.test_client()
    _start(attacker)
    replayed = attacker.get(callback)
    assert replayed.status_code == 400
    assert "expired or was already used" in replayed.data.decode()
    assert _signed_in(attacker) is None
    # The same browser again: the state was used up.
    again = app.test_client()
    assert again.get(callback).status_code == 400 and _signed_in(again) is None
    reasons = [e.detail for e in _events(session, "auth.oidc_refused")]
    assert reasons == ['{"reason": "bad_state"}'] * 2


def test_an_error_from_the_provider_is_a_clear_page(client, session, provider):
    _start(client)
    with client.session_transaction() as browser_session:
        state = next(key for key in browser_session if key.startswith("_state_"))
    refused = client.get(f"/login/oidc/callback?error=access_denied&state={state[21:]}")
    assert refused.status_code == 400
    assert "did not complete" in refused.data.decode()
    assert _refusal(session).detail == '{"reason": "provider_error"}'


class TestAnotherIssuer:
    @pytest.fixture
    def app_config(self, oidc_provider):
        # The same provider under another name: its discovery document names the
        # issuer it really is, which is not the one configured.
        return {"PULSE_OIDC": oidc_provider.settings(
            issuer=oidc_provider.issuer.replace("127.0.0.1", "localhost"))}

    def test_a_provider_that_is_not_the_configured_issuer_is_refused(self, client, session,
                                                                    provider):
        refused = client.get("/login/oidc")
        assert refused.status_code == 400
        assert "did not identify itself" in refused.data.decode()
        assert _refusal(session).detail == '{"reason": "provider_mismatch"}'


class TestNotConfigured:
    @pytest.fixture
    def app_config(self):
        return {"PULSE_OIDC": None}

    def test_there_is_no_button_and_no_organisation_sign_in(self, client):
        page = client.get("/login").data.decode()
        assert "/login/oidc" not in page and 'name="password"' in page
        assert client.get("/login/oidc").status_code == 404
        assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_a_linked_user_later_turned_off_is_refused(app, client, session, provider, lead):
    provider.add_account("entra-object-1", "lead@nhs.net")
    assert _sign_in(client, "entra-object-1").status_code == 302
    lead.active = False
    session.add(lead)
    session.commit()
    again = app.test_client()
    refused = _sign_in(again, "entra-object-1")
    assert refused.status_code == 403 and 'data-reason="disabled"' in refused.data.decode()
    assert _signed_in(again) is None
    assert _refusal(session).user_id == lead.id


def test_the_page_asked_for_is_where_the_sign_in_lands(client, provider, lead):
    provider.add_account("entra-object-1", "lead@nhs.net")
    page = client.get("/login?next=/reports/test-int").data.decode()
    assert 'href="/login/oidc?next=/reports/test-int"' in page
    location = client.get("/login/oidc?next=/reports/test-int").headers["Location"]
    landed = client.get(_callback_path(log_in_at_provider(location, "entra-object-1")))
    assert landed.headers["Location"] == "/reports/test-int"


@pytest.mark.parametrize("query", ["", "?code=made-up&state=made-up", "?state=&code="])
def test_a_callback_without_a_sign_in_of_its_own_is_refused(client, session, query):
    refused = client.get("/login/oidc/callback" + query)
    assert refused.status_code == 400 and 'data-reason="bad_state"' in refused.data.decode()
    assert _refusal(session).detail == '{"reason": "bad_state"}'


class TestProviderDown:
    @pytest.fixture
    def app_config(self, oidc_provider):
        port = oidc_loopback._free_port()  # nothing listens there
        return {"PULSE_OIDC": oidc_provider.settings(issuer=f"http://127.0.0.1:{port}")}

    def test_an_unreachable_provider_is_a_clear_page(self, client, session):
        refused = client.get("/login/oidc")
        assert refused.status_code == 503
        assert "Pulse could not reach" in refused.data.decode()
        assert _refusal(session).detail == '{"reason": "provider_unreachable"}'
