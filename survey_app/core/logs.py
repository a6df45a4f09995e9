"""Request logging that never writes a pulse token or code, and cannot be forged.

A token in a log line would let anyone who reads the logs and the database
together find whose link it was; the path is masked before it is formatted.
Paths are decoded, so someone can put a newline (``%0A``) or any other control
character in one: every logged value has those escaped, so one request is one
line and nobody can write a line that looks like Pulse's own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping

from flask import Flask, Response, g, request

# /p/<token or code> and /unsubscribe/<signed id>: the whole path segment, whatever it
# holds, since the pulse views strip whitespace and dashes from a code and accept any
# case (tokens.normalise_code); in a request line, up to " HTTP/1.1". Any case of the
# prefix, as over-masking costs nothing. The code-entry page /p has nothing to hide.
# A password reset link's token (/reset-password/<token>) is masked the same way.
_SECRET_PATH = re.compile(r"(/p/|/unsubscribe/|/reset-password/)(?:(?!\s+HTTP/\d)[^/])+",
                          re.IGNORECASE)
MASK = r"\1[link]"
# An organisation sign-in's callback carries its one-time ``code`` and ``state`` in the
# query (and a request line has it): either would help someone racing the real browser.
# Any path, any case, up to the next parameter, fragment or space.
_SECRET_QUERY = re.compile(r"((?:^|[?&\s])(?:code|state)=)[^&#\s]*", re.IGNORECASE)
QUERY_MASK = r"\1[hidden]"
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}

request_log = logging.getLogger("survey_app.requests")


def _escape_char(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every character that could end, hide or fake a log line escaped.

    That is \\n, \\r and \\t; the other C0 and C1 controls and DEL (``\\x1b``,
    ``\\x85``, ``\\x7f``); and every other character Python does not count
    printable: Unicode line and paragraph separators (``\\u2028``), bidirectional
    and other format characters, unusual spaces. A backslash is doubled, so no
    escape can be faked.
    """
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escape_char(c) if c == "\\" or not c.isprintable() else c for c in text)


def _escape_beyond_latin1(text: str) -> str:
    """Werkzeug's request line has C0/C1 controls and backslashes escaped by Werkzeug
    already (and may carry its own colour codes): escape only what it leaves."""
    if text.isprintable():
        return text
    return "".join(_escape_char(c) if ord(c) >= 0xA0 and not c.isprintable() else c
                   for c in text)


def _mask(text: str) -> str:
    return _SECRET_QUERY.sub(QUERY_MASK, _SECRET_PATH.sub(MASK, text))


def mask_secrets(text: str) -> str:
    """``text`` as it may be logged: link secrets masked, control characters escaped."""
    return escape_controls(_mask(text))


class MaskSecretsFilter(logging.Filter):
    """Masks tokens in records from servers that log request lines themselves, and
    escapes control characters in the values they log (the format string is theirs)."""

    def __init__(self, escape: Callable[[str], str] = escape_controls) -> None:
        super().__init__()
        self._escape = escape

    def _clean(self, value: object) -> object:
        return self._escape(_mask(value)) if isinstance(value, str) else value

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _mask(record.msg)
        if isinstance(record.args, Mapping):
            # Gunicorn's access log formats from a dict of "atoms".
            record.args = {key: self._clean(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        return True


def _install(logger_name: str, log_filter: MaskSecretsFilter) -> None:
    # Once per logger, however many apps are made: escaping twice would double backslashes.
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, MaskSecretsFilter) for existing in logger.filters):
        logger.addFilter(log_filter)


def init_app(app: Flask) -> None:
    _install("werkzeug", MaskSecretsFilter(escape=_escape_beyond_latin1))
    _install("gunicorn.access", MaskSecretsFilter())
    _install(app.logger.name, MaskSecretsFilter())  # "Exception on /reset-password/..."
    if not app.config.get("TESTING") and not request_log.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        request_log.info(
            "%s %s %s %.0fms", escape_controls(request.method), mask_secrets(request.path),
            response.status_code, elapsed_ms,
        )
        return response
