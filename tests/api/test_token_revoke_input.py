"""The API tokens page refuses odd input with a clear 4xx page, never a 500.

PostgreSQL's ``integer`` holds ids up to 2**31 - 1: a larger id in the revoke form
once reached the database and failed there. A NUL in a name would do the same (the
app refuses one in any form).
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.accounts import api_tokens
from survey_app.core.clock import utcnow
from survey_app.models import ApiToken

PAGE = "/account/api-tokens"
NOT_FOUND = "That token was not found"


@pytest.fixture
def lead(client, make_team, make_user, login):
    make_team()
    user = make_user("lead", ints=("test-int",))
    login(client, user.email)
    return user


@pytest.mark.parametrize("token_id", [
    "999999999999",           # 12 digits: past PostgreSQL's integer
    "2147483648",             # 2**31, the first id PostgreSQL cannot hold
    "99999999999999999999",   # past a 64-bit integer too
    "-1", "0", "1.5", "1e3", "abc", "", " 1", "１",  # a full-width digit
])
def test_a_bad_or_unknown_token_id_gives_a_clear_page_not_a_500(client, session, lead,
                                                                 hidden_fields, token_id):
    token, _ = api_tokens.create_token(session, user_id=lead.id, name="Mine", now=utcnow())
    session.commit()
    fields = hidden_fields(client.get(PAGE).data)
    response = client.post(f"{PAGE}/revoke", data={**fields, "token_id": token_id})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    # The tokens page again, saying what went wrong, with the token still listed.
    assert NOT_FOUND in html and "Your tokens" in html and "Mine" in html
    session.refresh(token)
    assert token.revoked_at is None


def test_the_largest_id_the_database_holds_is_simply_not_found(client, session, lead,
                                                               hidden_fields):
    fields = hidden_fields(client.get(PAGE).data)
    response = client.post(f"{PAGE}/revoke", data={**fields, "token_id": str(2**31 - 1)})
    assert response.status_code == 404 and NOT_FOUND in response.get_data(as_text=True)


def test_a_missing_token_id_is_not_found(client, session, lead, hidden_fields):
    fields = hidden_fields(client.get(PAGE).data)
    response = client.post(f"{PAGE}/revoke", data=fields)
    assert response.status_code == 404 and NOT_FOUND in response.get_data(as_text=True)


def test_revoke_token_refuses_ids_out_of_the_database_s_range(session, lead):
    for token_id in (-1, 0, 2**31, 10**12):
        with pytest.raises(api_tokens.TokenError):
            api_tokens.revoke_token(session, user_id=lead.id, token_id=token_id,
                                    now=utcnow())


def test_a_name_with_a_nul_is_refused_not_a_500(client, session, lead, hidden_fields):
    fields = hidden_fields(client.get(PAGE).data)
    response = client.post(PAGE, data={**fields, "name": "Board\x00spreadsheet"})
    assert response.status_code == 400
    assert session.exec(select(ApiToken)).all() == []


def test_a_name_of_many_characters_is_refused_whatever_its_bytes(client, session, lead,
                                                                 hidden_fields):
    fields = hidden_fields(client.get(PAGE).data)
    ok = client.post(PAGE, data={**fields, "name": "é" * api_tokens.MAX_NAME})
    assert ok.status_code == 200
    fields = hidden_fields(client.get(PAGE).data)
    long = client.post(PAGE, data={**fields, "name": "é" * (api_tokens.MAX_NAME + 1)})
    assert long.status_code == 400
    assert len(session.exec(select(ApiToken)).all()) == 1
