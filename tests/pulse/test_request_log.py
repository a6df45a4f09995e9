"""Request log lines cannot be forged, and no path that opens a pulse is logged as typed."""

from __future__ import annotations

import io
import logging

import pytest

from survey_app.core.clock import utcnow
from survey_app.core.logs import MaskSecretsFilter, mask_secrets, request_log
from survey_app.core.tokens import format_code
from survey_app.pulse import waves

FORGED = "2026-12-03 10:00:00,000 INFO POST /login 302 1ms"


@pytest.fixture
def log_lines():
    """What the request log writes, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    level = request_log.level
    request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)
    yield lambda: stream.getvalue().splitlines(keepends=True)
    request_log.removeHandler(handler)
    request_log.setLevel(level)


def test_a_forged_newline_stays_on_its_one_line(client, log_lines):
    client.get("/results/x%0a" + FORGED.replace(" ", "%20") + "/y")
    lines = log_lines()
    assert len(lines) == 1 and lines[0].endswith("\n") and "\r" not in lines[0]
    assert f"GET /results/x\\n{FORGED}/y 404 " in lines[0]


@pytest.mark.parametrize(("typed", "logged"), [
    ("%0d", "\\r"), ("%09", "\\t"), ("%1b[2J", "\\x1b[2J"), ("%00", None),
    ("%c2%85", "\\x85"), ("%e2%80%a8", "\\u2028"), ("%e2%80%ae", "\\u202e"),
    ("%5cn", "\\\\n"), ("%7f", "\\x7f"),
])
def test_every_control_character_is_escaped(client, log_lines, typed, logged):
    client.get(f"/results/a{typed}b")
    lines = log_lines()
    assert len(lines) == 1
    if logged is not None:  # NUL is refused before routing; the line is still one line
        assert f"/results/a{logged}b " in lines[0]
    assert all(char.isprintable() for char in lines[0].rstrip("\n"))


@pytest.fixture
def code(session, open_wave):
    wave = open_wave(size=2, offline=1)
    issued = waves.issue_codes(session, wave_id=wave.wave_id, now=utcnow())
    session.commit()
    return issued[0][1]


@pytest.mark.parametrize("path", [
    "/p/%20{dashed}", "/p/{dashed}%20", "/p/%0a{plain}", "/p/%09{plain}%0d",
    "/p/{lower}", "/p/{first}%20{second}", "/p/{first}%2d{second}", "/p/%20{lower}%20",
])
def test_a_code_path_that_opens_a_pulse_is_logged_masked(client, log_lines, code, path):
    url = path.format(dashed=format_code(code), plain=code, lower=code.lower(),
                      first=code[:5], second=code[5:])
    assert client.get(url).status_code == 200  # it does open the pulse
    lines = log_lines()
    assert len(lines) == 1 and "GET /p/[link] 200 " in lines[0]
    logged = lines[0].upper()
    assert code[:5] not in logged and code[5:] not in logged


def test_unsubscribe_secrets_are_masked_with_whitespace_too(client, log_lines):
    client.get("/unsubscribe/%20SeCrEt.SiGnEd%0a")
    line = "".join(log_lines())
    assert "/unsubscribe/[link] " in line and "SeCrEt" not in line and "\\n" not in line


def test_masking_covers_the_whole_segment_and_keeps_the_protocol():
    assert mask_secrets("GET /p/ V524H-5TTNX HTTP/1.1") == "GET /p/[link] HTTP/1.1"
    assert mask_secrets("/P/abc?x=1") == "/P/[link]"
    assert mask_secrets("/p/abc/def") == "/p/[link]/def"
    assert mask_secrets("/p") == "/p"  # the code-entry page has nothing to hide
    assert mask_secrets("/results/x\ny") == "/results/x\\ny"


def test_gunicorns_atoms_are_escaped_as_well_as_masked():
    atoms = {"h": "127.0.0.1", "r": "GET /results/x%0Ay HTTP/1.1",
             "U": f"/results/x\n{FORGED}", "a": "agent\r\nX-Forged: 1", "s": 200}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                               '%(h)s "%(r)s" %(s)s %(U)s "%(a)s"', (atoms,), None)
    MaskSecretsFilter().filter(record)
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line
    assert f"/results/x\\n{FORGED}" in line and "agent\\r\\nX-Forged: 1" in line


def test_werkzeugs_own_escaping_is_not_doubled(app):
    # Werkzeug escapes C0/C1 controls and backslashes in its request line itself.
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '%s - - "%s" %s\n',
                               ("127.0.0.1", "GET /results/x\\x0ay\u2028z HTTP/1.1", "404"),
                               None)
    installed = [f for f in logging.getLogger("werkzeug").filters
                 if isinstance(f, MaskSecretsFilter)]
    assert len(installed) == 1  # once, however many apps the suite has made
    installed[0].filter(record)
    line = record.getMessage()
    assert "/results/x\\x0ay\\u2028z HTTP/1.1" in line and line.endswith("\n")
