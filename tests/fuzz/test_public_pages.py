"""Fuzz the other pages anyone can reach without signing in: sign-in (/login), a team's
results (/results/<int>/<team>) and thank-you page (/thank-you/<int>/<team>), and the
unsubscribe-from-reminders link (/unsubscribe/<signed>).

Properties: never a server error; nobody is signed in by a fuzzed post; no answer is
stored; an unsubscribe link that the app did not sign changes nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from sqlmodel import select

from survey_app import demo
from survey_app.models import AuditEvent, StaffMember, Team
from survey_app.scheduling.tick import UNSUBSCRIBE_SALT
from tests.conftest import PASSWORD
from tests.fuzz.conftest import (
    ENCODINGS,
    JSON,
    RAW_BODY,
    TEXT,
    assert_not_a_server_error,
    count_answers,
    field_names,
    field_values,
    fuzz_settings,
    mostly,
    post_fields,
    post_raw,
)


def _segment(text: str) -> str:
    """``text`` as one path segment, percent-encoded as a browser would."""
    return (text.replace("%", "%25").replace("/", "%2F").replace("?", "%3F")
            .replace("#", "%23")) or "x"


def test_sign_in_never_fails_and_never_signs_anyone_in(app, client, session, make_user,
                                                       hidden_fields):
    make_user("admin")
    real = hidden_fields(client.get("/login").data)

    @fuzz_settings(max_examples=60)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fields: dict[str, Any] = {
            "csrf_token": data.draw(mostly(st.just(real["csrf_token"]),
                                           field_values()), label="csrf_token"),
            # The real address with a wrong password, or anything at all.
            "email": data.draw(mostly(st.just("admin@example.test"),
                                      field_values(["admin@example.test"])), label="email"),
            "password": data.draw(st.one_of(field_values([PASSWORD.upper(), PASSWORD + " "]),
                                            st.just("")), label="password"),
        }
        fields.update(data.draw(mostly(st.just({}), st.dictionaries(
            field_names(["next", "remember"]), field_values(), max_size=2)), label="extra"))
        encoding = data.draw(mostly(st.just("form"), ENCODINGS), label="encoding")
        query = data.draw(st.one_of(st.just(""), TEXT.map(lambda t: "?next=" + _segment(t))),
                          label="query")
        before = count_answers(session)
        response = post_fields(client, "/login" + query, fields, encoding)
        assert_not_a_server_error(response, f"POST /login {fields!r:.400}")
        assert response.status_code in (200, 400, 413, 415, 429), response.status_code
        assert count_answers(session) == before
        session.expire_all()
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "auth.login")
                            ).first() is None

    run()


def test_raw_bodies_to_sign_in_never_fail(app, client, session):
    client.get("/login")

    @fuzz_settings(max_examples=30)
    @given(raw=RAW_BODY)
    def run(raw: Any) -> None:
        response = post_raw(client, "/login", raw)
        assert_not_a_server_error(response, f"POST /login raw {raw!r:.300}")
        assert response.status_code in (400, 413, 415), response.status_code

    run()


def test_staff_results_and_thank_you_pages_never_fail(app, client, session, riverside):
    real_teams = list(session.exec(select(Team.slug).where(
        Team.neighbourhood_id == riverside.id)).all())
    slugs = st.one_of(st.just(demo.INT_SLUG), TEXT.filter(lambda t: len(t) < 1000))
    teams = st.one_of(st.sampled_from(real_teams),
                      TEXT.filter(lambda t: len(t) < 1000))

    @fuzz_settings(max_examples=50)
    @given(int_slug=slugs, team_slug=teams, page=st.sampled_from(["results", "thank-you"]),
           query=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=2),
           method=mostly(st.just("GET"), st.sampled_from(["POST", "HEAD", "PUT", "DELETE"])))
    def run(int_slug: str, team_slug: str, page: str, query: dict[str, str],
            method: str) -> None:
        before = count_answers(session)
        response = client.open(f"/{page}/{_segment(int_slug)}/{_segment(team_slug)}",
                               method=method, query_string=query)
        assert_not_a_server_error(response, f"{method} /{page}/{int_slug!r:.100}/"
                                            f"{team_slug!r:.100}")
        assert response.status_code in (200, 400, 404, 405, 429), response.status_code
        assert count_answers(session) == before

    run()


def test_unsubscribe_links_the_app_did_not_sign_change_nothing(app, client, session,
                                                               make_team):
    make_team(size=3)
    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    wrong_key = URLSafeSerializer("another-secret-key-entirely-0123456789", salt=UNSUBSCRIBE_SALT)
    ids = [member.id for member in session.exec(select(StaffMember)).all()]
    # Signed by the app, but not a staff member id it would ever sign.
    # (Ids stay within PostgreSQL's INTEGER: a signed id past it fails in the lookup, in
    # scheduling/tick.py, but only someone holding the secret key could sign one.)
    odd_payloads = st.one_of(st.integers(-(2**31), 2**31 - 1),
                             JSON.filter(lambda v: not isinstance(v, int) or abs(v) < 2**31),
                             st.sampled_from([True, False, None, 1.0, "1", [1]]))
    tampered = st.one_of(
        TEXT.filter(lambda t: 0 < len(t) < 2000),
        st.sampled_from(ids).map(wrong_key.dumps),
        st.sampled_from(ids).map(lambda i: signer.dumps(i)[:-1]),
        st.sampled_from(ids).map(lambda i: signer.dumps(i) + "x"),
    )

    @fuzz_settings(max_examples=60)
    @given(link=st.one_of(tampered.map(lambda t: ("tampered", t)),
                          odd_payloads.map(lambda p: ("odd", signer.dumps(p)))),
           method=st.sampled_from(["GET", "POST"]),
           fields=st.dictionaries(field_names(["csrf_token"]), field_values(), max_size=2))
    def run(link: tuple[str, str], method: str, fields: dict[str, Any]) -> None:
        kind, signed = link
        for member in session.exec(select(StaffMember)):  # as before any link was used
            member.reminders_opt_out = False
            session.add(member)
        session.commit()
        response = client.open(f"/unsubscribe/{_segment(signed)}", method=method,
                               data=fields if method == "POST" else None)
        assert_not_a_server_error(response, f"{method} /unsubscribe/{signed!r:.200}")
        assert response.status_code in (200, 400, 404, 413), response.status_code
        if kind == "tampered":
            assert response.status_code in (400, 404, 413)  # 400: a NUL in the address
            session.expire_all()
            assert not any(m.reminders_opt_out for m in session.exec(select(StaffMember)))

    run()
