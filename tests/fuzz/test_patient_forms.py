"""Fuzz the patient pages: the enrolled kiosk (/kiosk, /kiosk/experience) and the QR
pages on a patient's own phone (/q/<code>, /q/<code>/experience).

Properties: never a server error; a rating is stored only for a valid post (the page's
form token, a rating of 1 to 4, a fresh idempotency key of at most 64 characters, no
NUL) and only with the 302 that moves the patient on; anything else stores nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from survey_app.activation import ratings
from survey_app.core.extensions import instrument
from survey_app.models import ActivationRating
from tests.fuzz.conftest import (
    ENCODINGS,
    NASTY_CHARACTERS,
    RAW_BODY,
    TEXT,
    UPLOAD,
    Upload,
    assert_not_a_server_error,
    count_answers,
    field_names,
    field_values,
    fuzz_settings,
    has_nul,
    mostly,
    post_fields,
    post_raw,
)

RATINGS = ["1", "2", "3", "4"]
REUSED_KEY = "a-key-posted-more-than-once"


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value



def _fuzz_rating_page(client, session, hidden_fields, path: str, examples: int,
                      before_each=lambda: None) -> None:
    used_keys: set[str] = set()
    tally = {True: 0, False: 0}

    @fuzz_settings(max_examples=examples)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        before_each()
        page = client.get(path)
        assert page.status_code == 200, page.data[:300]
        real = hidden_fields(page.data)
        fields: dict[str, Any] = {}
        drawn = {
            "csrf_token": data.draw(mostly(st.just(real["csrf_token"]), st.one_of(
                st.just(ABSENT), TEXT, field_values())), label="csrf_token"),
            "idempotency_key": data.draw(mostly(st.just(real["idempotency_key"]), st.one_of(
                st.just(ABSENT), st.just(REUSED_KEY), field_values(),
                UPLOAD, st.text(min_size=60, max_size=70))), label="idempotency_key"),
            "rating": data.draw(mostly(st.sampled_from(RATINGS), st.one_of(
                st.just(ABSENT), field_values(RATINGS))), label="rating"),
            "easy_read": data.draw(st.one_of(st.just(ABSENT), st.just("1"), TEXT, UPLOAD),
                                   label="easy_read"),
        }
        fields = {name: value for name, value in drawn.items() if value is not ABSENT}
        extra = data.draw(mostly(st.just({}), st.dictionaries(
            field_names(["nhs_number", "site", "consultation_type", "proxy", "skip"]),
            field_values(), max_size=3)), label="extra fields")
        for name, value in extra.items():
            fields.setdefault(name, value)
        encoding = data.draw(mostly(st.just("form"), ENCODINGS), label="encoding")

        key = _first(fields.get("idempotency_key"))
        valid = (encoding != "json"
                 and _first(fields.get("csrf_token")) == real["csrf_token"]
                 and _first(fields.get("rating")) in RATINGS
                 and isinstance(key, str) and 0 < len(key) <= 64
                 and not any(has_nul(_first(value)) for value in fields.values()
                             if not isinstance(value, Upload)))
        fresh = valid and key not in used_keys
        before = count_answers(session)
        response = post_fields(client, path, fields, encoding)
        assert_not_a_server_error(response, f"POST {path} {fields!r:.500}")
        after = count_answers(session)
        stored = after["activation_rating"] - before["activation_rating"]
        tally[valid] += 1
        assert stored == (1 if fresh else 0), (response.status_code, fields)
        assert {k: v for k, v in after.items() if k != "activation_rating"} == \
            {k: v for k, v in before.items() if k != "activation_rating"}
        if valid:
            assert response.status_code == 302  # stored, or already stored by this form
            used_keys.add(key)
            if fresh:
                row = session.exec(select(ActivationRating).where(
                    ActivationRating.idempotency_key == key)).one()
                assert str(row.rating) == _first(fields["rating"])
        else:
            assert response.status_code in (400, 413, 415), response.status_code

    run()
    assert tally[True] >= 10 and tally[False] >= 30, tally


def test_the_kiosk_rating_stores_only_valid_ratings(app, kiosk, session, hidden_fields):
    _fuzz_rating_page(kiosk, session, hidden_fields, "/kiosk", examples=120)


def test_the_qr_rating_stores_only_valid_ratings(app, client, session, make_site,
                                                 hidden_fields):
    make_site("RMP")
    # One answer per phone per day: forget it before each example, as a new phone would.
    _fuzz_rating_page(client, session, hidden_fields, "/q/RMP", examples=120,
                      before_each=lambda: client.delete_cookie("pulse_qr"))


@pytest.mark.parametrize("path", ["/kiosk/experience", "/q/RMP/experience"])
def test_the_fft_question_stores_only_valid_answers(app, kiosk, session,
                                                   hidden_fields, path):
    with app.app_context():
        values = list(instrument(ratings.EXPERIENCE).item("experience").values)
    tally = {True: 0, False: 0}

    @fuzz_settings(max_examples=60)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        with kiosk.session_transaction() as browser:
            browser["experience_key"] = uuid.uuid4().hex  # as after a rating
        page = kiosk.get(path)
        assert page.status_code == 200, page.data[:300]
        real = hidden_fields(page.data)
        drawn = {
            "csrf_token": data.draw(mostly(st.just(real["csrf_token"]), st.one_of(
                st.just(ABSENT), TEXT, field_values())), label="csrf_token"),
            "answer": data.draw(mostly(st.sampled_from(values), st.one_of(
                st.just(ABSENT), field_values(values))), label="answer"),
            "skip": data.draw(mostly(st.just(ABSENT), field_values(["1"])), label="skip"),
        }
        fields = {name: value for name, value in drawn.items() if value is not ABSENT}
        encoding = data.draw(mostly(st.just("form"), ENCODINGS), label="encoding")
        # Skipping needs the form token too (the app checks it before the view).
        skip = (encoding != "json" and isinstance(_first(fields.get("skip")), str)
                and bool(_first(fields["skip"]))
                and _first(fields.get("csrf_token")) == real["csrf_token"])
        valid = (encoding != "json" and not skip
                 and _first(fields.get("csrf_token")) == real["csrf_token"]
                 and _first(fields.get("answer")) in values
                 and not any(has_nul(_first(value)) for value in fields.values()))
        before = count_answers(session)
        response = post_fields(kiosk, path, fields, encoding)
        assert_not_a_server_error(response, f"POST {path} {fields!r:.500}")
        after = count_answers(session)
        tally[valid] += 1
        if any(has_nul(_first(value)) for value in fields.values()) and encoding != "json":
            assert response.status_code == 400 and after == before
            return
        assert after["experience_rating"] - before["experience_rating"] == (1 if valid else 0)
        assert after["activation_rating"] == before["activation_rating"]
        if valid or skip:
            assert response.status_code == 302
        else:
            assert response.status_code in (400, 413, 415), response.status_code

    run()
    assert tally[True] >= 5 and tally[False] >= 20, tally


@pytest.mark.parametrize("path", ["/kiosk", "/kiosk/experience", "/q/RMP",
                                  "/q/RMP/experience"])
def test_raw_bodies_to_patient_pages_never_fail_or_store(app, kiosk, session, path):
    kiosk.get(path)

    @fuzz_settings(max_examples=25)
    @given(raw=RAW_BODY)
    def run(raw: Any) -> None:
        with kiosk.session_transaction() as browser:
            browser["experience_key"] = "k" * 32
        before = count_answers(session)
        response = post_raw(kiosk, path, raw)
        assert_not_a_server_error(response, f"POST {path} raw {raw!r:.300}")
        assert count_answers(session) == before
        assert response.status_code in (400, 413, 415), response.status_code

    run()


def test_unknown_site_codes_and_forged_kiosk_cookies_are_refused(app, client, session,
                                                                 make_site):
    make_site("RMP")

    @fuzz_settings(max_examples=60)
    @given(code=TEXT.filter(lambda s: 0 < len(s) < 2000),
           cookie=st.text(max_size=200) | st.lists(NASTY_CHARACTERS, max_size=5).map("".join),
           method=st.sampled_from(["GET", "POST"]), tail=st.sampled_from(
               ["", "/experience", "/thanks"]))
    def run(code: str, cookie: str, method: str, tail: str) -> None:
        before = count_answers(session)
        quoted = code.replace("%", "%25").replace("/", "%2F").replace("?", "%3F") \
            .replace("#", "%23")
        response = client.open(f"/q/{quoted}{tail}", method=method,
                               data={"rating": "3"} if method == "POST" else None)
        assert_not_a_server_error(response, f"{method} /q/{code!r:.200}{tail}")
        client.set_cookie("pulse_kiosk", cookie)
        kiosk = client.open("/kiosk" + tail, method=method,
                            data={"rating": "3"} if method == "POST" else None)
        assert_not_a_server_error(kiosk, f"{method} /kiosk{tail} cookie {cookie!r:.200}")
        assert kiosk.status_code in (400, 403, 405)
        assert count_answers(session) == before

    run()
