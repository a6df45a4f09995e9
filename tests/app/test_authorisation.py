"""Every route in the app's URL map, against every role.

The matrix below says who may reach each endpoint. A new route that is not in
it fails :func:`test_every_route_is_in_the_matrix`, so nobody adds a page
without deciding who may see it. Roles: anonymous, a recorder, the lead of INT
A (the demo's Riverside), the lead of INT B (another INT), an admin. API routes
take a bearer token, not a signed-in session: tested with tokens in tests/api/.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from werkzeug.routing import Rule

from survey_app import demo
from survey_app.demo import patients
from survey_app.models import Neighbourhood, Site, Team, User

ROLES = ("anonymous", "recorder", "lead_a", "lead_b", "admin")
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
RECORDERS = frozenset({"recorder", "admin"})
LEADS = frozenset({"lead_a", "lead_b", "admin"})
INT_A = frozenset({"lead_a", "admin"})  # INT A's data: its lead and admins, nobody else
SITE_A = frozenset({"recorder", "lead_a", "admin"})  # a site of INT A
ADMINS = frozenset({"admin"})
API = "api"  # bearer token only: a signed-in session is not enough
KIOSK = "kiosk"  # an enrolled device only: without its cookie everyone is refused alike

# Endpoint -> who may reach it. Prefix entries ("reports.") cover a blueprint's
# remaining endpoints; exact names win.
MATRIX: dict[str, frozenset[str] | str] = {
    "static": EVERYONE,
    "health.healthz": EVERYONE,
    "branding.logo": EVERYONE,  # an INT's logo, shown on pages open to all
    "notices.": EVERYONE,  # the privacy notices and the accessibility statement
    "auth.login": EVERYONE,
    "auth.change_password": SIGNED_IN,
    "auth.home": SIGNED_IN,
    "mfa.step": SIGNED_IN,  # the second step of a password sign-in; after it, a redirect
    "mfa.enrol": SIGNED_IN,  # setting up an authenticator app
    "reset.forgotten": EVERYONE,
    "reset.choose": EVERYONE,  # the signed link is the key
    "reset.admin_send": ADMINS,
    "mfa.admin_remove": ADMINS,
    "oidc.start": EVERYONE,  # organisation sign-in: off to the provider (404 if not set up)
    "oidc.callback": EVERYONE,  # back from it; the state in this session is the key
    "sign_in_admin.": ADMINS,  # how people sign in: the switch for Pulse passwords
    "pulse.": EVERYONE,  # the token is the key; no sign-in
    "staff_results.": EVERYONE,  # the thank-you and team results pages: no sign-in
    "scheduling.unsubscribe": EVERYONE,  # the signed link is the key
    "patient.": EVERYONE,  # kiosk cookie or poster code; no sign-in
    "patient.enrol_kiosk": ADMINS,
    "patient.kiosk": KIOSK,
    "patient.kiosk_experience": KIOSK,
    "patient.kiosk_thanks": KIOSK,
    "activation.record": RECORDERS,
    "activation.undo": RECORDERS,
    "activation.posters": SIGNED_IN - {"anonymous"},  # each sees their own sites' posters
    "activation.poster": SITE_A,
    "admin.": ADMINS,
    "scheduling_admin.": ADMINS,
    "reports.index": LEADS,
    "reports.icb": ADMINS,
    "reports.icb_csv": ADMINS,
    "reports.fhir_bundle": ADMINS,
    "reports.fhir_questionnaire": ADMINS,
    "reports.": INT_A,
    "api.openapi": EVERYONE,
    "api.": API,
    "api_tokens.": LEADS,
}
# A table each CSV route serves.
CSV_TABLES = {"reports.team_csv": "measures", "reports.activation_csv": "distribution"}
# Routes that end or change the session itself, tested where they are written.
NOT_IN_MATRIX = {"auth.logout": "tests/activation/test_accounts.py signs out"}


def allowed_roles(endpoint: str) -> frozenset[str] | str:
    if endpoint in MATRIX:
        return MATRIX[endpoint]
    prefix = endpoint.split(".")[0] + "."
    if prefix in MATRIX:
        return MATRIX[prefix]
    raise KeyError(endpoint)


@pytest.fixture
def app_config() -> dict[str, Any]:
    # The CSRF check runs before access checks; here only access is under test.
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def world(app, session, make_team, make_user, riverside):
    make_team(slug="community-team", int_slug="other-int")
    lead_b = make_user("lead", email="lead-b@example.test", ints=("other-int",))
    lead_a = session.exec(select(User).where(User.email == f"lead@{demo.EMAIL_DOMAIN}")).one()
    team = session.exec(select(Team).where(Team.slug == "district-nursing")).one()
    site = session.exec(select(Site).join(Neighbourhood).where(
        Neighbourhood.slug == demo.INT_SLUG).order_by(Site.code)).first()
    return {
        "int_slug": demo.INT_SLUG, "slug": demo.INT_SLUG, "team_slug": team.slug,
        "user_id": lead_a.id, "kiosk_id": 1, "schedule_id": 1, "action": "pause",
        "secret": "not-a-real-token", "code": site.code, "signed": "not-signed",
        "filename": "css/pulse.css", "table": None, "lead_b_id": lead_b.id,
        "version": riverside.logo_sha256[:16], "audience": "staff",
    }


def _url(app, rule: Rule, world: dict[str, Any]) -> str:
    values = {}
    for name in rule.arguments:
        if name == "table":
            values[name] = CSV_TABLES[rule.endpoint]
        elif name in world:
            values[name] = world[name]
        else:
            raise AssertionError(f"{rule.endpoint}: add a sample value for <{name}>")
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values)


def _sign_in(client, login, role: str) -> None:
    emails = {"recorder": f"recorder@{demo.EMAIL_DOMAIN}", "lead_a": f"lead@{demo.EMAIL_DOMAIN}",
              "admin": f"admin@{demo.EMAIL_DOMAIN}"}
    if role == "lead_b":
        assert login(client, "lead-b@example.test").status_code == 302
    elif role != "anonymous":
        assert login(client, emails[role], password=patients.DEMO_PASSWORD).status_code == 302


def _rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in NOT_IN_MATRIX),
                  key=lambda r: r.rule)


def test_every_route_is_in_the_matrix(app):
    unknown = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        try:
            allowed_roles(rule.endpoint)
        except KeyError:
            unknown.append(rule.endpoint)
    assert unknown == [], "decide who may reach these, in MATRIX"


def _denied(response, role: str) -> bool:
    if role == "anonymous":
        return response.status_code == 302 and "/login" in response.headers["Location"]
    return response.status_code in (403, 404)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_against_every_role(app, world, client, login, role):
    _sign_in(client, login, role)
    wrong = []
    for rule in _rules(app):
        allowed = allowed_roles(rule.endpoint)
        url = _url(app, rule, world)
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if allowed == API:
            # A session (or none) never reaches API data: only a token does.
            response = client.get(url)
            if response.status_code != 401 or response.is_json is False:
                wrong.append((rule.endpoint, url, response.status_code, "expected 401 JSON"))
            continue
        if allowed == KIOSK:
            response = client.get(url)
            if response.status_code != 403:
                wrong.append((rule.endpoint, url, response.status_code, "not an enrolled kiosk"))
            continue
        if allowed == EVERYONE:
            # Open to all: a bad token may be 404 or 410, but never a sign-in or refusal.
            response = client.get(url) if "GET" in methods else client.post(url, data={})
            response.close()
            if response.status_code in (401, 403) or response.status_code >= 500 or (
                    response.status_code == 302 and "/login" in response.headers["Location"]):
                wrong.append((rule.endpoint, url, response.status_code, "open to everyone"))
            continue
        if "GET" in methods:
            response = client.get(url)
            response.close()  # file downloads hold their file open until closed
            if role in allowed and _denied(response, role):
                wrong.append((rule.endpoint, url, response.status_code, "should be allowed"))
            if role in allowed and response.status_code >= 500:
                wrong.append((rule.endpoint, url, response.status_code, "server error"))
            if role not in allowed and not _denied(response, role):
                wrong.append((rule.endpoint, url, response.status_code, "should be denied"))
        elif role not in allowed:
            # POST-only: only refusals are tried, so nothing is changed.
            response = client.post(url, data={})
            if not _denied(response, role):
                wrong.append((rule.endpoint, url, response.status_code, "POST should be denied"))
    assert wrong == [], "\n".join(map(str, wrong))


def test_a_lead_never_sees_another_ints_reports(app, world, client, login):
    """Lead B tries every INT A report URL, and every page of their own, for INT A's names."""
    _sign_in(client, login, "lead_b")
    for rule in _rules(app):
        if rule.endpoint.startswith("reports.") and "int_slug" in rule.arguments:
            url = _url(app, rule, world)
            response = client.get(url) if "GET" in rule.methods else client.post(url, data={})
            assert response.status_code == 403, rule.endpoint
            assert b"District nursing" not in response.data
