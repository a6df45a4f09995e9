"""A staff member's journey through the pulse, via the real app and its test client."""

from __future__ import annotations

import json
import time
from unittest import mock

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import Invitation, ItemAnswer, Response, Wave
from survey_app.pulse import waves


def _answer(client, url, hidden_fields, shown_items, **answers):
    page = client.get(url)
    assert page.status_code == 200
    fields = hidden_fields(page.data)
    return client.post(url, data={**fields, **answers}), shown_items(page.data)


def _refused(client, url, data):
    """Post ``data``; a refused post is a 303 back to the page, which shows the errors."""
    posted = client.post(url, data=data)
    assert posted.status_code == 303 and posted.headers["Location"] == url
    return client.get(url)


def _responses(session):
    session.expire_all()
    return session.exec(select(Response)).all()


def test_answering_stores_one_response_and_thanks(client, session, open_wave, hidden_fields,
                                                  shown_items):
    wave = open_wave()
    url = wave.urls[0]
    result, shown = _answer(client, url, hidden_fields, shown_items,
                            recommend_work="likely", recommend_care="dont_know",
                            one_thing_better="  More joint visits  ")
    assert result.status_code == 303
    assert result.headers["Location"].startswith("/thank-you/test-int/district-nursing")
    thanks = client.get(result.headers["Location"])
    assert b"Thank you" in thanks.data

    [response] = _responses(session)
    assert response.wave_id == wave.wave_id
    assert json.loads(response.items_shown) == shown
    assert len(shown) == 2 + 3 + 1 and shown[:2] == ["recommend_work", "recommend_care"]
    answers = {a.item_id: (a.choice, a.text) for a in session.exec(select(ItemAnswer))}
    # Blank items are item non-response: shown, but no answer row.
    assert answers == {"recommend_work": ("likely", None), "recommend_care": ("dont_know", None),
                       "one_thing_better": (None, "More joint visits")}
    assert session.exec(select(Invitation).where(Invitation.used)).one()


def test_a_second_submit_says_already_answered_and_stores_nothing(
        client, session, open_wave, hidden_fields, shown_items):
    url = open_wave().urls[0]
    page = client.get(url)
    data = {**hidden_fields(page.data), "recommend_work": "likely"}
    assert client.post(url, data=data).status_code == 303
    resent = client.post(url, data=data)
    assert resent.status_code == 303 and resent.headers["Location"] == url
    again = client.get(url)
    assert again.status_code == 410
    assert b"already answered" in again.data
    assert b'href="/results/test-int/district-nursing"' in again.data  # their team's results
    assert client.get(url).status_code == 410
    assert len(_responses(session)) == 1


@pytest.mark.parametrize("answered", [True, False])
def test_a_closed_wave_says_closed_whether_or_not_answered(client, session, open_wave,
                                                            hidden_fields, shown_items, answered):
    wave = open_wave()
    url = wave.urls[0]
    if answered:
        _answer(client, url, hidden_fields, shown_items, recommend_work="likely")
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    page = client.get(url)
    assert page.status_code == 410
    assert b"This pulse has closed" in page.data
    assert b"already answered" not in page.data
    assert b'href="/results/test-int/district-nursing"' in page.data


def test_a_wave_past_its_closing_time_is_closed_before_the_close_job_runs(
        client, session, open_wave):
    wave = open_wave()
    row = session.get(Wave, wave.wave_id)
    row.closes_at = utcnow()
    session.add(row)
    session.commit()
    assert client.get(wave.urls[0]).status_code == 410


def test_an_unknown_token_is_404(client):
    response = client.get("/p/not-a-real-token-at-all-0123456789")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_missing_csrf_token_keeps_answers_and_stores_nothing(client, session, open_wave,
                                                             hidden_fields):
    url = open_wave().urls[0]
    page = client.get(url)
    fields = hidden_fields(page.data)
    del fields["csrf_token"]
    result = _refused(client, url, {**fields, "recommend_work": "unlikely"})
    assert result.status_code == 200
    html = result.data.decode()
    assert "There is a problem" in html and "send them again" in html
    assert 'value="unlikely" checked' in html
    assert _responses(session) == []
    # The re-shown page carries a fresh token: sending again works.
    retry = client.post(url, data={**hidden_fields(result.data), "recommend_work": "unlikely"})
    assert retry.status_code == 303
    assert len(_responses(session)) == 1


def test_expired_form_token_keeps_answers_and_asks_again(client, session, open_wave,
                                                          hidden_fields, app):
    url = open_wave().urls[0]
    page = client.get(url)
    fields = hidden_fields(page.data)
    hours_later = time.time() + app.config["WTF_CSRF_TIME_LIMIT"] + 3600
    with mock.patch("itsdangerous.timed.time.time", return_value=hours_later):
        result = _refused(client, url, {**fields, "recommend_work": "likely",
                                        "one_thing_better": "Shorter meetings"})
        assert result.status_code == 200
        html = result.data.decode()
        assert "open for a long time" in html
        assert 'value="likely" checked' in html and "Shorter meetings</textarea>" in html
        assert _responses(session) == []
        # The re-shown page carries a fresh token: sending again (still hours later) works.
        again = client.post(url, data={**hidden_fields(result.data), "recommend_work": "likely"})
    assert again.status_code == 303


def test_a_forged_option_shows_the_error_summary_and_keeps_other_answers(
        client, session, open_wave, hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    result = _refused(client, url, {**fields, "recommend_work": "definitely",
                                    "recommend_care": "likely"})
    assert result.status_code == 200
    html = result.data.decode()
    assert 'class="nhsuk-error-summary"' in html
    assert '<a href="#recommend_work-0">Select one of the answers shown' in html
    assert 'id="recommend_work-0"' in html
    assert 'value="likely" checked' in html
    assert _responses(session) == []


def test_an_empty_submission_is_refused(client, session, open_wave, hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    result = _refused(client, url, {**fields, "one_thing_better": "   "})
    assert result.status_code == 200
    assert b"Answer at least one question" in result.data
    assert _responses(session) == []
    assert session.exec(select(Invitation).where(Invitation.used)).first() is None


def test_a_forged_item_list_is_refused(client, session, open_wave, hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    fields["shown"] = fields["shown"][:-3] + "abc"
    result = _refused(client, url, {**fields, "recommend_work": "likely"})
    assert result.status_code == 200
    assert b"Something went wrong with this page" in result.data
    assert _responses(session) == []


def test_free_text_over_the_limit_is_refused_and_kept(client, session, open_wave,
                                                      hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    result = _refused(client, url, {**fields, "one_thing_better": "x" * 1001})
    assert result.status_code == 200
    assert b"1000 characters or fewer" in result.data
    assert b"x" * 1001 + b"</textarea>" in result.data
    assert _responses(session) == []


def test_each_page_shows_the_core_items_and_the_waves_three_pool_items(
        client, session, open_wave, shown_items, app):
    wave = open_wave()
    due = json.loads(session.get(Wave, wave.wave_id).due_items)
    pool = {item.id for item in app.extensions["pulse_instruments"]["team-pulse"].pool_items}
    assert len(due) == 3 and set(due) <= pool
    for _ in range(3):
        items = shown_items(client.get(wave.urls[0]).data)
        assert items[:2] == ["recommend_work", "recommend_care"]
        assert items[2:-1] == due and items[-1] == "one_thing_better"


def test_without_a_rotation_block_the_pool_items_are_drawn_per_page(app):
    import random

    from survey_app.pulse.responses import choose_items

    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    rng = random.Random(3)
    seen = {item for _ in range(12) for item in choose_items(instrument, rng)[2:-1]}
    assert len(seen) > 3


def test_token_pages_are_private(client, open_wave):
    response = client.get(open_wave().urls[0])
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'name="csrf_token"' in response.data.decode()


def test_completion_time_is_kept_coarse(client, session, open_wave, hidden_fields):
    url = open_wave().urls[0]
    fields = hidden_fields(client.get(url).data)
    with mock.patch("survey_app.pulse.forms.time.time", return_value=time.time() + 47):
        client.post(url, data={**fields, "recommend_work": "likely"})
    [response] = _responses(session)
    assert response.completion_seconds in (45, 50)


def test_a_wave_closed_while_the_page_was_open_says_closed_and_stores_nothing(
        client, session, open_wave, hidden_fields):
    wave = open_wave()
    url = wave.urls[0]
    fields = hidden_fields(client.get(url).data)
    row = session.get(Wave, wave.wave_id)
    # The close is recorded, but the clock still reads the wave as open, as in the
    # instant between a close starting and this post.
    row.closed_at = utcnow()
    session.add(row)
    session.commit()
    from survey_app.pulse import responses as responses_service

    link = responses_service.find_link(session, secret=url.removeprefix("/p/"))
    with mock.patch("survey_app.pulse.responses.PulseLink.state",
                    return_value=responses_service.LinkState.OPEN):
        assert link.state(utcnow()) is responses_service.LinkState.OPEN
        posted = client.post(url, data={**fields, "recommend_work": "likely"})
    assert posted.status_code == 303 and posted.headers["Location"] == url
    result = client.get(url)
    assert result.status_code == 410 and b"This pulse has closed" in result.data
    assert _responses(session) == []
    assert session.exec(select(Invitation).where(Invitation.used)).first() is None


@pytest.mark.parametrize("path", ["/p/abc\x00def", "/q/RMP%00"])
def test_a_nul_character_is_refused_clearly(client, path):
    response = client.get(path)
    assert response.status_code == 400 and b"cannot accept" in response.data


def test_error_pages_under_link_paths_are_private_too(client):
    response = client.get("/p/not-a-real-token-at-all-0123456789")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
