"""The API tokens page: a token is shown once, stored only as a hash, and revocable."""

from __future__ import annotations

import hashlib
import re

from sqlmodel import col, select

from survey_app.accounts import api_tokens
from survey_app.core.clock import utcnow
from survey_app.models import ApiToken, AuditEvent
from tests.api.conftest import PREFIX, bearer

PAGE = "/account/api-tokens"
TOKEN_IN_PAGE = re.compile(r'id="api-token"[^>]*value="(pulse_[A-Za-z0-9_-]+)"')


def _create(client, hidden_fields, name: str = "Board spreadsheet"):
    fields = hidden_fields(client.get(PAGE).data)
    return client.post(PAGE, data={**fields, "name": name})


def test_a_lead_creates_a_token_that_is_shown_once_and_stored_as_a_hash(
        client, session, make_team, make_user, login, hidden_fields):
    make_team()
    lead = make_user("lead", ints=("test-int",))
    login(client, lead.email)
    response = _create(client, hidden_fields)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    plaintext = TOKEN_IN_PAGE.search(response.get_data(as_text=True)).group(1)
    # 192 random bits, URL-safe base64, after the prefix.
    assert len(plaintext.removeprefix("pulse_")) == 32
    [row] = session.exec(select(ApiToken)).all()
    assert row.user_id == lead.id and row.name == "Board spreadsheet"
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in repr(row.model_dump())
    # Never shown again: the list has the name, not the token.
    listing = client.get(PAGE).get_data(as_text=True)
    assert "Board spreadsheet" in listing and plaintext not in listing
    assert "Never" in listing  # not used yet
    # It works, as its user.
    api = client.get(f"{PREFIX}/ints", headers=bearer(plaintext))
    assert api.status_code == 200 and api.get_json()["ints"][0]["slug"] == "test-int"
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "api_token.create"))
    assert event.user_id == lead.id and event.target == f"api_token:{row.id}"
    assert plaintext not in f"{event.target} {event.detail}"
    assert row.token_hash not in f"{event.target} {event.detail}"


def test_a_lead_revokes_their_token_with_the_form(client, session, make_team, make_user, login,
                                                  hidden_fields):
    make_team()
    lead = make_user("lead", ints=("test-int",))
    login(client, lead.email)
    plaintext = TOKEN_IN_PAGE.search(_create(client, hidden_fields).get_data(as_text=True))[1]
    row = session.exec(select(ApiToken)).one()
    page = client.get(PAGE)
    assert f'name="token_id" value="{row.id}"' in page.get_data(as_text=True)
    response = client.post(f"{PAGE}/revoke",
                           data={**hidden_fields(page.data), "token_id": str(row.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    listing = client.get(PAGE).get_data(as_text=True)
    assert "has been revoked" in listing and "Revoked" in listing
    session.refresh(row)
    assert row.revoked_at is not None
    assert client.get(f"{PREFIX}/ints", headers=bearer(plaintext)).status_code == 401
    events = session.exec(select(AuditEvent.action).where(
        col(AuditEvent.action).startswith("api_token.")).order_by(col(AuditEvent.id))).all()
    assert events == ["api_token.create", "api_token.revoke"]


def test_revoking_needs_the_csrf_token(client, session, make_team, make_user, login,
                                       hidden_fields):
    make_team()
    lead = make_user("lead", ints=("test-int",))
    login(client, lead.email)
    _create(client, hidden_fields)
    row = session.exec(select(ApiToken)).one()
    response = client.post(f"{PAGE}/revoke", data={"token_id": str(row.id)})
    assert response.status_code == 400
    session.refresh(row)
    assert row.revoked_at is None
    # Creating without it does nothing either.
    assert client.post(PAGE, data={"name": "No CSRF"}).status_code == 400
    assert len(session.exec(select(ApiToken)).all()) == 1


def test_nobody_revokes_another_person_s_token(client, session, make_team, make_user, login,
                                               hidden_fields):
    make_team()
    owner = make_user("lead", email="owner@example.test", ints=("test-int",))
    token, _ = api_tokens.create_token(session, user_id=owner.id, name="Owner's",
                                       now=utcnow())
    session.commit()
    other = make_user("admin", email="admin@example.test")
    login(client, other.email)
    page = client.get(PAGE)
    assert "Owner&#39;s" not in page.get_data(as_text=True)
    response = client.post(f"{PAGE}/revoke",
                           data={**hidden_fields(page.data), "token_id": str(token.id)})
    assert response.status_code == 404
    session.refresh(token)
    assert token.revoked_at is None


def test_a_token_needs_a_name(client, session, make_team, make_user, login, hidden_fields):
    make_team()
    login(client, make_user("lead", ints=("test-int",)).email)
    response = _create(client, hidden_fields, name="   ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#name"' in html
    assert "Enter a name for the token" in html
    assert session.exec(select(ApiToken)).all() == []


def test_only_leads_and_admins_have_the_page_and_its_link(client, make_team, make_user, login):
    make_team()
    make_user("recorder", email="recorder@example.test", ints=("test-int",))
    login(client, "recorder@example.test")
    assert client.get(PAGE).status_code == 403
    assert "API tokens" not in client.get("/home").get_data(as_text=True)
    client.post("/logout")
    login(client, make_user("lead", ints=("test-int",)).email)
    assert f'href="{PAGE}"' in client.get("/home").get_data(as_text=True)
