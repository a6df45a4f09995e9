"""Post/redirect/get on the pulse: every post is answered with a 303, so the browser's
history holds only GETs and Back never offers to send the answers again."""

from __future__ import annotations

import random

from flask.sessions import SecureCookieSessionInterface
from sqlmodel import func, select

from survey_app.models import Response


def _responses(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Response)).one()


def _browser_session(app, client) -> dict:
    """The session cookie as the server reads it back."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return dict(serializer.loads(cookie.value)) if cookie else {}


def test_a_refused_post_redirects_to_the_page_which_shows_the_answers_once(
        app, client, session, open_wave, hidden_fields, shown_items):
    url = open_wave().urls[0]
    page = client.get(url)
    items = shown_items(page.data)
    posted = client.post(url, data={**hidden_fields(page.data), "recommend_work": "definitely",
                                    "recommend_care": "likely",
                                    "one_thing_better": "Fewer handovers"})
    assert posted.status_code == 303 and posted.headers["Location"] == url
    assert "pulse_retry" in _browser_session(app, client)

    shown_again = client.get(url)
    assert shown_again.status_code == 200
    assert shown_again.headers["Cache-Control"] == "no-store"
    html = shown_again.data.decode()
    assert html.count('<a href="#recommend_work-0">Select one of the answers shown') == 1
    assert 'value="likely" checked' in html and "Fewer handovers</textarea>" in html
    assert shown_items(shown_again.data) == items  # the same questions, not a new draw
    # Taken out of the cookie by that GET: a reload is a fresh, error-free page.
    assert "pulse_retry" not in _browser_session(app, client)
    reloaded = client.get(url).data.decode()
    assert "There is a problem" not in reloaded and "Fewer handovers" not in reloaded
    assert _responses(session) == 0


def test_correcting_then_sending_stores_once_and_the_page_then_says_answered(
        client, session, open_wave, hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    refused = client.post(url, data={**fields, "one_thing_better": "   "})
    assert refused.status_code == 303
    corrected = client.get(url)
    assert b"Answer at least one question" in corrected.data
    sent = client.post(url, data={**hidden_fields(corrected.data), "recommend_work": "likely"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/thank-you/test-int/district-nursing"
    # What Back shows: the link's page, fetched again (never cached), now spent.
    back = client.get(url)
    assert back.status_code == 410 and b"already answered" in back.data
    assert back.headers["Cache-Control"] == "no-store"
    # A post replayed from the history is not a second response.
    replayed = client.post(url, data={**hidden_fields(corrected.data), "recommend_work": "likely"})
    assert replayed.status_code == 303 and replayed.headers["Location"] == url
    assert _responses(session) == 1


def test_the_kept_answers_belong_to_their_own_link(client, open_wave, hidden_fields):
    first, second = open_wave().urls[:2]
    fields = hidden_fields(client.get(first).data)
    client.post(first, data={**fields, "recommend_work": "definitely",
                             "one_thing_better": "Mine alone"})
    other = client.get(second).data.decode()
    assert "Mine alone" not in other and "There is a problem" not in other
    assert "Mine alone</textarea>" in client.get(first).data.decode()


def test_answers_too_big_for_the_cookie_are_shown_at_once_and_kept(
        client, session, open_wave, hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    # 1000 varied non-Latin letters: within the limit, but escaped and barely
    # compressible they are far past a 4 KB cookie.
    rng = random.Random(5)
    text = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(1000))
    refused = client.post(url, data={**fields, "recommend_work": "definitely",
                                     "one_thing_better": text})
    assert refused.status_code == 400
    html = refused.data.decode()
    assert "Select one of the answers shown" in html and f"{text}</textarea>" in html
    assert _responses(session) == 0

