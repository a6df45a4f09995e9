"""The staff pulse on a phone-sized screen in a real browser, with and without JavaScript."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import ItemAnswer, Response, Wave
from survey_app.pulse import waves

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_person_answers_on_a_phone(live_server, new_page, open_wave, session, javascript,
                                     screenshot):
    wave = open_wave()
    page = new_page(360, 640, javascript=javascript)
    page.goto(live_server + wave.urls[0])
    assert page.title() == "District Nursing pulse – Pulse"
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("group", name="place to work").get_by_label("Likely", exact=True).check()
    page.get_by_role("group", name="needed care").get_by_label("Don't know").check()
    page.get_by_label("What one thing would make our team better?").fill("Joint huddles")
    screenshot(page, f"pulse-phone-{'js' if javascript else 'nojs'}")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/thank-you/**")
    assert page.get_by_role("heading", name="Thank you").is_visible()
    session.expire_all()
    [response] = session.exec(select(Response)).all()
    answers = {a.item_id: a.choice or a.text for a in session.exec(select(ItemAnswer))}
    assert answers == {"recommend_work": "likely", "recommend_care": "dont_know",
                       "one_thing_better": "Joint huddles"}


@pytest.mark.page_only
def test_answer_options_are_big_enough_to_tap(live_server, new_page, open_wave):
    page = new_page(360, 640)
    page.goto(live_server + open_wave().urls[0])
    labels = page.locator(".nhsuk-radios__item").all()
    assert labels
    for label in labels:
        box = label.bounding_box()
        assert box["height"] >= 44, box


@pytest.mark.page_only
def test_pulse_error_and_thank_you_pages_pass_axe(live_server, new_page, open_wave,
                                                  axe_violations, screenshot, session):
    wave = open_wave()
    page = new_page(360, 640)
    page.goto(live_server + wave.urls[0])
    assert axe_violations(page) == []

    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible()
    assert "Answer at least one question" in summary.inner_text()
    screenshot(page, "pulse-error-phone")
    assert axe_violations(page) == []

    page.get_by_role("group", name="place to work").get_by_label("Likely", exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/thank-you/**")
    assert axe_violations(page) == []

    page.goto(live_server + wave.urls[0])  # spent link
    assert "already answered" in page.content()
    assert axe_violations(page) == []

    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    page.goto(live_server + wave.urls[1])
    assert "This pulse has closed" in page.content()
    assert axe_violations(page) == []


@pytest.mark.page_only
def test_code_entry_page_passes_axe_and_shows_errors(live_server, new_page, open_wave,
                                                     axe_violations):
    open_wave()
    page = new_page(360, 640)
    page.goto(live_server + "/p")
    assert axe_violations(page) == []
    page.get_by_label("Enter your pulse code").fill("nope")
    page.get_by_role("button", name="Continue").click()
    assert "That code was not recognised" in page.locator(".nhsuk-error-summary").inner_text()
    assert axe_violations(page) == []
