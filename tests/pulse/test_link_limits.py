"""Wrong guesses at links and codes are limited per address; right ones always open.

Many staff share one address (a GP practice behind one NAT): someone else's typos
must not lock out a colleague whose own link or card is right.
"""

from __future__ import annotations

import uuid

import pytest

from survey_app.core.clock import utcnow
from survey_app.core.tokens import format_code
from survey_app.pulse import waves

GP_PRACTICE = {"REMOTE_ADDR": "203.0.113.7"}
HELP = "ask your team lead for a new link or code"


def _code_for(session, wave_id):
    issued = waves.issue_codes(session, wave_id=wave_id, now=utcnow())
    session.commit()
    return issued[0][1]


def _exhaust(client, fields):
    """Ten wrong guesses (the limit a minute), links and codes mixed; the eleventh is refused."""
    statuses = []
    for attempt in range(5):
        statuses.append(client.get(f"/p/not-a-real-token-{attempt}",
                                   environ_base=GP_PRACTICE).status_code)
        statuses.append(client.post("/p", data={**fields, "code": "ABCDE-23456"},
                                    environ_base=GP_PRACTICE).status_code)
    assert statuses == [404] * 10
    refused = client.get("/p/not-a-real-token-x", environ_base=GP_PRACTICE)
    assert refused.status_code == 429
    return refused


def test_valid_links_and_codes_open_after_others_guessed_wrong(client, session, open_wave,
                                                               hidden_fields):
    wave = open_wave(size=3, offline=1)
    code = _code_for(session, wave.wave_id)
    url = next(iter(wave.urls))
    fields = hidden_fields(client.get("/p", environ_base=GP_PRACTICE).data)
    _exhaust(client, fields)

    # A colleague at the same practice opens their own link, more than once.
    for _ in range(3):
        page = client.get(url, environ_base=GP_PRACTICE)
        assert page.status_code == 200
        assert b'name="shown"' in page.data
    # Another types the code on their card, as people do: lower case, spaces.
    entered = client.post("/p", data={**fields, "code": format_code(code).lower()},
                          environ_base=GP_PRACTICE)
    assert entered.status_code == 302
    opened = client.get(entered.headers["Location"], environ_base=GP_PRACTICE)
    assert opened.status_code == 200 and b'name="shown"' in opened.data
    assert client.get(f"/p/{code}", environ_base=GP_PRACTICE).status_code == 200

    # Wrong guesses from there are still refused, by link and by code.
    assert client.get("/p/still-wrong", environ_base=GP_PRACTICE).status_code == 429
    assert client.post("/p", data={**fields, "code": "ABCDE-23457"},
                       environ_base=GP_PRACTICE).status_code == 429
    # Another address is not affected.
    assert client.get("/p/wrong-elsewhere",
                      environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 404


def test_a_valid_link_can_still_be_answered_after_the_limit(client, open_wave, hidden_fields,
                                                            session):
    wave = open_wave(size=2)
    url = next(iter(wave.urls))
    fields = hidden_fields(client.get("/p", environ_base=GP_PRACTICE).data)
    _exhaust(client, fields)
    page = client.get(url, environ_base=GP_PRACTICE)
    answered = client.post(url, data={**hidden_fields(page.data), "recommend_work": "likely"},
                           environ_base=GP_PRACTICE)
    assert answered.status_code == 303
    # Spent now, so it says so (410), rather than pretending it was a guess.
    assert client.get(url, environ_base=GP_PRACTICE).status_code == 410


def test_the_refusal_says_what_to_do(client, open_wave, hidden_fields):
    open_wave(size=2)
    fields = hidden_fields(client.get("/p", environ_base=GP_PRACTICE).data)
    refused = _exhaust(client, fields)
    by_code = client.post("/p", data={**fields, "code": "ABCDE-23456"},
                          environ_base=GP_PRACTICE)
    assert by_code.status_code == 429
    for page in (refused, by_code):
        text = " ".join(page.get_data(as_text=True).split())
        assert "Too many links or codes that did not work" in text
        assert "Check your link or code" in text and "wait a few minutes" in text
        assert HELP in text
    assert refused.headers["Cache-Control"] == "no-store"  # a link path, kept private


@pytest.mark.parametrize("app_config", [{"PULSE_CODE_ATTEMPT_LIMIT": "2 per minute"}])
def test_only_wrong_guesses_count(client, open_wave, app_config):
    wave = open_wave(size=2)
    url = next(iter(wave.urls))
    for _ in range(5):  # opening one's own link is never counted
        assert client.get(url, environ_base=GP_PRACTICE).status_code == 200
    statuses = [client.get(f"/p/wrong-{n}", environ_base=GP_PRACTICE).status_code
                for n in range(3)]
    assert statuses == [404, 404, 429]


REDIS_URL = "redis://127.0.0.1:6379/14"
REDIS_PREFIX = f"link-limits-{uuid.uuid4().hex}"


@pytest.fixture
def redis_limits():
    """Limits in Redis, as several workers share them; only this test's keys are removed."""
    from tests.conftest import reachable_redis

    client = reachable_redis(REDIS_URL)
    yield client
    for key in client.scan_iter(f"*{REDIS_PREFIX}*"):
        client.delete(key)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": REDIS_URL,
                                         "RATELIMIT_KEY_PREFIX": REDIS_PREFIX}])
def test_through_redis_workers_share_the_count_and_valid_links_still_open(
        redis_limits, app, open_wave, app_config):
    from survey_app import create_app
    from survey_app.core.db import get_engine
    from tests.conftest import _test_config

    wave = open_wave(size=2)
    url = next(iter(wave.urls))
    other_worker = create_app(_test_config(app.config["SQLALCHEMY_DATABASE_URI"],
                                           **app_config))
    first, second = app.test_client(), other_worker.test_client()
    statuses = [worker.get(f"/p/wrong-{n}", environ_base=GP_PRACTICE).status_code
                for n in range(5) for worker in (first, second)]
    assert statuses == [404] * 10
    assert first.get("/p/wrong-again", environ_base=GP_PRACTICE).status_code == 429
    assert second.get(url, environ_base=GP_PRACTICE).status_code == 200
    assert first.get(url, environ_base=GP_PRACTICE).status_code == 200
    assert second.get("/p/wrong-again", environ_base=GP_PRACTICE).status_code == 429
    assert any(True for _ in redis_limits.scan_iter(f"*{REDIS_PREFIX}*"))
    get_engine(other_worker).dispose()
