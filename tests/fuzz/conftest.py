"""Shared pieces of the fuzz tests: generous rate limits, Hypothesis settings, strategies
for hostile form posts, and a way to count stored answers.

Every fuzz test runs its Hypothesis loop inside the test (the fixtures are built once,
then shared by every example), so the examples see each other's rows: the counts of
answer tables before and after each example are what the properties check.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from survey_app.models import ActivationRating, ExperienceRating, ItemAnswer, Response

#: Rows a public form may store: staff answers and patient ratings.
ANSWER_TABLES: tuple[type[SQLModel], ...] = (Response, ItemAnswer, ActivationRating,
                                             ExperienceRating)

MANY = "100000 per minute"


@pytest.fixture
def app_config() -> dict[str, Any]:
    # The fuzzers post hundreds of wrong answers from one address: the limits would
    # otherwise answer 429 after the first few and hide every code path behind them.
    return {
        "PULSE_CODE_ATTEMPT_LIMIT": MANY, "PULSE_LOGIN_CLIENT_LIMIT": MANY,
        "PULSE_LOGIN_ACCOUNT_LIMIT": MANY, "PULSE_QR_LIMIT": MANY,
        "PULSE_RESULTS_LIMIT": MANY, "PULSE_API_RATE_LIMIT": MANY,
        "PULSE_API_FAILED_AUTH_LIMIT": MANY,
    }


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible (derandomised, no example database), bounded, no per-example deadline."""
    return settings(
        max_examples=max_examples, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
        print_blob=False,
    )


def count_answers(session: Session) -> dict[str, int]:
    session.expire_all()
    return {model.__tablename__: session.exec(  # type: ignore[attr-defined]
        select(func.count()).select_from(model)).one() for model in ANSWER_TABLES}


def assert_not_a_server_error(response: Any, what: str) -> None:
    # 503 is only for a database that cannot be reached, and here it always can.
    assert response.status_code < 500, (
        f"{what}: {response.status_code}\n{response.get_data(as_text=True)[:2000]}")


# --------------------------------------------------------------------------- strategies

#: Characters a browser never sends but an attacker can: NUL and other controls, lone
#: surrogates' neighbours, bidi overrides, non-characters, astral code points.
NASTY_CHARACTERS = st.sampled_from([
    "\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\u200b", "\u202e", "\ufeff",
    "\ufffe", "\uffff", "\U0001f600", "\U0010ffff", "\r\n", "\t", "'", '"', "<", ">", "&",
    "%00", "{{7*7}}", "\\", "/", "..", ";", "--",
])

TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=300),
    st.lists(NASTY_CHARACTERS, min_size=1, max_size=8).map("".join),
    # Huge: past every Length() limit (1000 for free text, 254 for an email address).
    st.builds(lambda chunk, times: chunk * times, st.text(min_size=1, max_size=3),
              st.sampled_from([255, 1001, 5000, 70_000])),
    st.integers().map(str),
    st.floats(allow_nan=True).map(repr),
    st.sampled_from(["", " ", "None", "null", "true", "[]", "{}", "0", "-1", "1e309",
                     "１", "٣", "3.0", " 3 ", "03"]),
)


@dataclass(frozen=True)
class Upload:
    """A file posted where a text field is expected (multipart only)."""

    content: bytes
    filename: str


UPLOAD = st.builds(Upload, st.binary(max_size=64), st.sampled_from(["a.txt", "", "x\x00.csv"]))


def near_misses(valid: Sequence[str]) -> st.SearchStrategy[str]:
    """Values a lenient parser might take for a valid one: padded, re-cased, cut, blank."""
    return st.sampled_from(list(valid)).flatmap(lambda v: st.sampled_from([
        f" {v}", f"{v} ", v.upper(), f"{v}\x00", v[:-1], f"{v},{v}", "", " ", "\t\n",
        "\u00a0"]))


def field_values(valid: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """A field's posted value(s): valid ones sometimes, text, repeated keys, or a file."""
    single = st.one_of(st.sampled_from(list(valid)), near_misses(valid), TEXT) if valid \
        else TEXT
    return st.one_of(
        single,
        single,
        st.lists(single, min_size=2, max_size=3),  # the same name posted more than once
        UPLOAD,
    )


def mostly(usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any],
           one_in: int = 4) -> st.SearchStrategy[Any]:
    """``usual`` most of the time, ``unusual`` one time in ``one_in`` (and when shrinking)."""
    return st.integers(0, one_in - 1).flatmap(lambda n: unusual if n == 0 else usual)


def field_names(known: Sequence[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(list(known)), st.text(max_size=20),
                     st.sampled_from(["", "csrf_token[]", "shown[]", "__proto__", "\x00"]))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


@dataclass(frozen=True)
class RawBody:
    """A body with its own content type, posted as it is."""

    body: bytes
    content_type: str


RAW_BODY = st.builds(
    RawBody,
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        JSON.map(lambda value: json.dumps(value).encode()),
        st.sampled_from([b"a=%ZZ&b=%", b"rating=%FF%FE", b"=&=&&==", b"\xff\xfe\x00",
                         b'--x\r\nContent-Disposition: form-data; name="rating"\r\n\r\n3',
                         b"--x--\r\n", b'{"rating": 3}', b"<rating>3</rating>"]),
    ),
    st.sampled_from([
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=bogus", "multipart/form-data",
        "multipart/form-data; boundary=x", "multipart/form-data; boundary=",
        "multipart/mixed; boundary=x", "application/json", "text/plain", "text/xml",
        "application/octet-stream", "", "x/y; q=\x00", "application/x-www-form-urlencoded; "
        "charset=utf-16",
    ]),
)


#: How a browser (or not) encodes the fields: a form, multipart, or JSON (which no page sends).
ENCODINGS = st.sampled_from(["form", "multipart", "json"])


def to_request(fields: dict[str, Any], encoding: str = "form") -> dict[str, Any]:
    """Test-client keyword arguments for posting ``fields`` with ``encoding``."""
    if encoding == "json":
        return {"json": {name: value.content.decode("latin-1") if isinstance(value, Upload)
                         else value for name, value in fields.items()}}
    data: dict[str, Any] = {}
    has_upload = False
    for name, value in fields.items():
        if isinstance(value, Upload):
            has_upload = True
            data[name] = (io.BytesIO(value.content), value.filename)
        else:
            data[name] = value
    if encoding == "multipart" or has_upload:
        return {"data": data, "content_type": "multipart/form-data"}
    return {"data": data}


def post_fields(client: FlaskClient, path: str, fields: dict[str, Any],
                encoding: str = "form") -> Any:
    return client.post(path, **to_request(fields, encoding))


def has_nul(value: Any) -> bool:
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return isinstance(value, str) and "\x00" in value


def post_raw(client: FlaskClient, path: str, raw: RawBody) -> Any:
    return client.post(path, data=raw.body, content_type=raw.content_type or None)
