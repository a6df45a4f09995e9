"""Each token has its own request budget; going over it is a documented 429."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PREFIX, bearer


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PULSE_API_RATE_LIMIT": "3 per minute", "PULSE_API_FAILED_AUTH_LIMIT": "4 per minute"}


def test_a_token_over_its_limit_gets_429_json_and_others_carry_on(client, world, issue_token,
                                                                  conforms):
    busy, other = issue_token(world.lead), issue_token(world.lead, name="another script")
    statuses = [client.get(f"{PREFIX}/ints", headers=bearer(busy)).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(f"{PREFIX}/ints", headers=bearer(busy))
    assert response.status_code == 429
    assert response.get_json()["error"] == "too_many_requests"
    conforms(response, "/ints")
    # The budget is the token's, not the address's: another token still reads.
    assert client.get(f"{PREFIX}/ints", headers=bearer(other)).status_code == 200


def test_a_client_sending_bad_tokens_is_slowed_down(client, world, issue_token, conforms):
    statuses = [client.get(f"{PREFIX}/ints",
                           headers=bearer(f"pulse_guess-{n}")).status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    response = client.get(f"{PREFIX}/ints", headers=bearer("pulse_guess-again"))
    assert response.status_code == 429
    conforms(response, "/ints")
