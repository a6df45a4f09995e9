"""Fuzz the staff pulse: the answer form at /p/<token> and code entry at /p.

Properties: never a server error, and an answer is stored only for a valid post (the
page's own form token and signed item list, each answer one of the options shown or
free text within its limit, at least one answered), and then only with the 303 to the
thank-you page that acknowledges it. Every other post stores nothing (a refused one is a
303 back to the page itself, which shows why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from survey_app.models import ItemAnswer, Response
from survey_app.pulse.forms import sign_shown
from tests.fuzz.conftest import (
    ENCODINGS,
    RAW_BODY,
    TEXT,
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


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # the field is not posted at all


class LinkPool:
    """Fresh, unanswered pulse links: a valid post spends one, so open more as needed."""

    def __init__(self, open_wave: Callable[..., Any]) -> None:
        self._open_wave = open_wave
        self._tokens: list[str] = []
        self._waves = 0

    def fresh(self) -> str:
        if not self._tokens:
            self._waves += 1
            opened = self._open_wave(size=10, slug=f"fuzz-team-{self._waves}")
            self._tokens = list(opened.tokens.values())
        return self._tokens[-1]

    def spend(self, token: str) -> None:
        self._tokens.remove(token)


def _assert_refused(response: Any, page: str) -> None:
    if response.status_code == 303:
        assert response.headers["Location"] == page, response.headers["Location"]
    else:
        assert response.status_code in (400, 413, 415), response.status_code


def _first(value: Any) -> Any:
    """What a form field reads from a posted value: the first of repeated keys."""
    return value[0] if isinstance(value, list) else value


def _expected_answer(item: Any, value: Any) -> tuple[bool, str | None]:
    """(valid, stored value) of one posted item answer, as the form ought to judge it."""
    value = _first(value)
    if value is ABSENT:
        return True, None
    if isinstance(value, Upload):
        return False, None
    if item.kind == "choice":
        if not value.strip():
            return True, None  # a blank is item non-response
        return value in {option.value for option in item.options}, value
    text = value.strip()
    if not text:
        return True, None
    return len(text) <= (item.max_length or 1000), text


def test_the_answer_form_stores_only_valid_answers_and_never_fails(
        app, client, session, open_wave, hidden_fields, shown_items):
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    links = LinkPool(open_wave)
    pool = [item.id for item in instrument.pool_items]
    with app.test_request_context():
        # Signed, so they pass the signature check, but not a set the page could show.
        forged_sets = [sign_shown(pool), sign_shown(["recommend_work"] * 6),
                       sign_shown([]), sign_shown(["no_such_item"] * 6)]

    @fuzz_settings(max_examples=200)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        token = links.fresh()
        page = client.get(f"/p/{token}")
        assert page.status_code == 200
        real = hidden_fields(page.data)
        item_ids = shown_items(page.data)
        fields: dict[str, Any] = {}
        # Mostly the page's own post, with a few fields altered: a valid answer is
        # then common enough that both halves of the property are exercised.
        csrf = data.draw(mostly(st.just(real["csrf_token"]), st.one_of(
            st.just(ABSENT), TEXT, st.just([real["csrf_token"], "x"]),
            st.just(real["csrf_token"][:-1]))), label="csrf_token")
        shown = data.draw(mostly(st.just(real["shown"]), st.one_of(
            st.just(ABSENT), TEXT, st.sampled_from(forged_sets), st.just(real["shown"][:-2]),
            field_values())), label="shown")
        for name, value in (("csrf_token", csrf), ("shown", shown)):
            if value is not ABSENT:
                fields[name] = value
        expected: dict[str, str] = {}
        items_ok = True
        for item_id in item_ids:
            item = instrument.item(item_id)
            valid = [option.value for option in item.options] or ["A fine comment", " Fine "]
            value = data.draw(mostly(st.one_of(st.just(ABSENT), st.sampled_from(valid)),
                                     field_values(valid), one_in=5), label=item_id)
            ok, stored = _expected_answer(item, value)
            items_ok = items_ok and ok
            if stored is not None:
                expected[item_id] = stored
            if value is not ABSENT:
                fields[item_id] = value
        extra = data.draw(mostly(st.just({}), st.dictionaries(
            field_names(pool), field_values(), max_size=3)), label="extra fields")
        for name, value in extra.items():
            # Not the shown items' own names: those are fuzzed above, and judged.
            if name not in item_ids and name not in ("csrf_token", "shown"):
                fields[name] = value
        encoding = data.draw(mostly(st.just("form"), ENCODINGS), label="encoding")

        valid = (encoding != "json"  # no page posts JSON
                 and _first(fields.get("csrf_token")) == real["csrf_token"]
                 and _first(fields.get("shown")) == real["shown"]
                 and not any(has_nul(_first(value)) for value in fields.values())
                 and items_ok and bool(expected))
        before = count_answers(session)
        before_ids = set(session.exec(select(Response.id)).all())
        response = post_fields(client, f"/p/{token}", fields, encoding)
        assert_not_a_server_error(response, f"POST /p/<token> {fields!r:.500}")
        after = count_answers(session)
        new_ids = set(session.exec(select(Response.id)).all()) - before_ids
        if new_ids:
            links.spend(token)
        tally[valid] += 1
        assert len(new_ids) == (1 if valid else 0), (response.status_code, fields, expected)
        if valid:
            assert response.status_code == 303
            assert response.headers["Location"].startswith("/thank-you/")
            stored = {answer.item_id: answer.choice if answer.choice is not None else answer.text
                      for answer in session.exec(select(ItemAnswer).where(
                          col(ItemAnswer.response_id).in_(new_ids))).all()}
            assert stored == expected
            assert after["item_answer"] - before["item_answer"] == len(expected)
        else:
            # 303 back to the page; 400: shown at once (a NUL, or answers too big to keep
            # in the cookie); 413: past the form's memory limit; 415: JSON.
            _assert_refused(response, f"/p/{token}")
            assert after == before

    tally = {True: 0, False: 0}
    run()
    assert tally[True] >= 20 and tally[False] >= 100, tally  # both halves were exercised


def test_raw_bodies_to_the_answer_form_never_fail_or_store(app, client, session, open_wave):
    token = LinkPool(open_wave).fresh()
    client.get(f"/p/{token}")

    @fuzz_settings(max_examples=40)
    @given(raw=RAW_BODY)
    def run(raw: Any) -> None:
        before = count_answers(session)
        response = post_raw(client, f"/p/{token}", raw)
        assert_not_a_server_error(response, f"POST /p/<token> raw {raw!r:.300}")
        assert count_answers(session) == before
        _assert_refused(response, f"/p/{token}")

    run()


def test_a_spent_link_stores_nothing_more(app, client, session, open_wave, hidden_fields):
    token = LinkPool(open_wave).fresh()
    page = hidden_fields(client.get(f"/p/{token}").data)
    first = client.post(f"/p/{token}", data={**page, "recommend_work": "likely"})
    assert first.status_code == 303

    @fuzz_settings(max_examples=20)
    @given(fields=st.dictionaries(field_names(["csrf_token", "shown", "recommend_work"]),
                                  field_values(["likely"]), max_size=4))
    def run(fields: dict[str, Any]) -> None:
        before = count_answers(session)
        response = post_fields(client, f"/p/{token}", {**page, **fields})
        assert_not_a_server_error(response, f"POST spent /p/<token> {fields!r:.300}")
        _assert_refused(response, f"/p/{token}")  # 303 to the page, which says it is spent
        assert count_answers(session) == before

    run()


SECRETS = st.one_of(TEXT.filter(lambda s: 0 < len(s) < 3000),
                    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789-", min_size=10,
                            max_size=12))


def test_unknown_links_and_codes_are_refused_without_a_server_error(app, client, session,
                                                                    open_wave, hidden_fields):
    LinkPool(open_wave).fresh()  # a wave exists, so lookups have rows to miss
    code_page = hidden_fields(client.get("/p").data)

    @fuzz_settings(max_examples=60)
    @given(secret=SECRETS, method=st.sampled_from(["GET", "POST"]),
           fields=st.dictionaries(field_names(["code", "csrf_token"]), field_values(),
                                  max_size=3),
           with_token=st.booleans(), raw=st.none() | RAW_BODY)
    def run(secret: str, method: str, fields: dict[str, Any], with_token: bool,
            raw: Any) -> None:
        before = count_answers(session)
        # Path segments: as a browser would encode them (a slash ends the segment).
        quoted = secret.replace("%", "%25").replace("/", "%2F").replace("?", "%3F") \
            .replace("#", "%23")
        link = client.open(f"/p/{quoted}", method=method,
                           data=fields if method == "POST" else None)
        assert_not_a_server_error(link, f"{method} /p/{secret!r:.200}")
        assert link.status_code in (404, 400, 405, 429), link.status_code
        code_fields = {**(code_page if with_token else {}), "code": secret, **fields}
        code = (post_raw(client, "/p", raw) if raw is not None
                else post_fields(client, "/p", code_fields))
        assert_not_a_server_error(code, f"POST /p {code_fields!r:.300} {raw!r:.200}")
        assert code.status_code in (400, 404, 413, 429), code.status_code
        assert count_answers(session) == before

    run()
