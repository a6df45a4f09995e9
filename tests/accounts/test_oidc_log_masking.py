"""An organisation sign-in's ``code`` and ``state`` never reach a log line as sent."""

from __future__ import annotations

import logging

import pytest

from survey_app.core.logs import MaskSecretsFilter, mask_secrets

CODE = "Xq0WbE3a-9HhzT1mYc7kQp2rLs"
STATE = "p7Jd0aQm3RkWz9Vb2NcXe5Ty"


@pytest.mark.parametrize(("line", "logged"), [
    (f"GET /login/oidc/callback?code={CODE}&state={STATE}&iss=https%3A%2F%2Fop HTTP/1.1",
     "GET /login/oidc/callback?code=[hidden]&state=[hidden]&iss=https%3A%2F%2Fop HTTP/1.1"),
    (f"GET /login/oidc/callback?STATE={STATE}&Code={CODE} HTTP/1.1",
     "GET /login/oidc/callback?STATE=[hidden]&Code=[hidden] HTTP/1.1"),
    (f"GET /login/oidc/callback?error=access_denied&state={STATE}#top",
     "GET /login/oidc/callback?error=access_denied&state=[hidden]#top"),
    # Names that only end in "code" or "state" are left alone.
    ("GET /reports/?postcode=AB1&session_state=x HTTP/1.1",
     "GET /reports/?postcode=AB1&session_state=x HTTP/1.1"),
])
def test_code_and_state_are_masked(line, logged):
    assert mask_secrets(line) == logged


def test_a_servers_own_request_line_is_masked():
    # Werkzeug and Gunicorn log the request line themselves, query and all.
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s "%s" %s', (
        "127.0.0.1", f"GET /login/oidc/callback?code={CODE}&state={STATE} HTTP/1.1", 302),
        None)
    MaskSecretsFilter().filter(record)
    message = record.getMessage()
    assert CODE not in message and STATE not in message
    assert "?code=[hidden]&state=[hidden] HTTP/1.1" in message
