"""Issue 13's journeys, walked in a real browser on a phone (360x640) and a laptop
(1280x800), axe clean, with a screenshot of each fix in test-artifacts/.

Kiosk enrolment that cannot be done wrong, a mistyped NHS number kept to correct, the
A4 QR poster, and a sign-in lockout that says what to do next. (The site choice, the
kiosk timeout and the report pages have their own browser tests.)
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from survey_app.models import ActivationRating, Kiosk
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = pytest.mark.browser
SIZES = [(360, 640), (1280, 800)]


def _assert_no_sideways_scroll(page: Any) -> None:
    scroll_width, width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= width, (scroll_width, width)


@pytest.mark.parametrize("width, height", SIZES)
def test_kiosk_enrolment_asks_for_a_site_and_a_unique_name(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot,
        width, height):
    make_site("RMP")
    make_site("HUB")
    make_user("admin")
    page = new_page(width, height)
    sign_in(page, live_server, "admin@example.test")
    page.goto(live_server + "/kiosk/enrol")
    page.get_by_role("button", name="Enrol and start").click()  # nothing changed
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "Choose the site this tablet is at" in summary.inner_text()
    assert "Enter a name for this tablet" in summary.inner_text()
    _assert_no_sideways_scroll(page)
    screenshot(page, f"journey-kiosk-enrol-errors-{width}x{height}")
    assert_axe_clean(page, axe_violations)
    session.expire_all()
    assert session.exec(select(Kiosk)).all() == []

    page.get_by_label("Site").select_option("RMP")
    page.get_by_label("Name for this tablet").fill("Reception tablet")
    page.get_by_role("button", name="Enrol and start").click()
    page.wait_for_url(live_server + "/kiosk")
    session.expire_all()
    assert [k.name for k in session.exec(select(Kiosk)).all()] == ["Reception tablet"]


@pytest.mark.parametrize("width, height", SIZES)
def test_a_mistyped_nhs_number_stays_in_the_box_with_what_is_wrong(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot,
        width, height):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    page = new_page(width, height)
    sign_in(page, live_server, "recorder@example.test")
    page.get_by_text("Follow-up and carer").click()
    page.get_by_label("NHS number").fill("9434765918")  # the check digit should be 9
    page.get_by_role("button", name="3 Good", exact=True).click()
    page.wait_for_load_state()
    box = page.get_by_label("NHS number")
    box.wait_for()
    assert box.input_value() == "9434765918"
    message = page.locator("#nhs_number-error").inner_text()
    assert message.endswith("This is not a valid NHS number: check the last digit")
    _assert_no_sideways_scroll(page)
    screenshot(page, f"journey-nhs-number-kept-{width}x{height}")
    assert_axe_clean(page, axe_violations)
    session.expire_all()
    assert session.exec(select(ActivationRating)).all() == []

    box.fill("9434765919")
    page.get_by_role("button", name="3 Good", exact=True).click()
    page.get_by_role("status").wait_for()
    session.expire_all()
    assert len(session.exec(select(ActivationRating)).all()) == 1


@pytest.mark.page_only
@pytest.mark.parametrize("width, height", SIZES)
def test_the_qr_poster_reads_on_screen_and_prints_with_its_code(
        live_server, new_page, make_site, make_user, axe_violations, screenshot, width, height):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    page = new_page(width, height)
    sign_in(page, live_server, "recorder@example.test")
    page.goto(live_server + "/sites/RMP/poster")
    text = page.locator("main").inner_text()
    assert "How good are you at taking care of your health?" in text
    assert "10 seconds" in text and "anonymous" in text.lower()
    assert page.locator(".pulse-poster__address").inner_text().endswith("/q/RMP")
    _assert_no_sideways_scroll(page)
    screenshot(page, f"journey-poster-{width}x{height}")
    assert_axe_clean(page, axe_violations)
    page.emulate_media(media="print")
    code = page.locator(".pulse-poster svg, .pulse-poster img").first
    assert code.is_visible() and code.bounding_box()["width"] >= 150


@pytest.mark.page_only
@pytest.mark.parametrize("width, height", SIZES)
def test_a_locked_sign_in_says_when_to_try_again(
        live_server, new_page, make_user, axe_violations, screenshot, width, height):
    make_user("admin")
    page = new_page(width, height)
    for _ in range(6):
        sign_in(page, live_server, "admin@example.test", password="not the password",
                landing="**/login")
    text = page.locator("main").inner_text()
    assert "try again in a minute" in text
    assert "Forgotten your password? Ask your INT's Pulse admin to reset it." in text
    assert page.get_by_label("Password").is_visible()  # not a dead end
    _assert_no_sideways_scroll(page)
    screenshot(page, f"journey-sign-in-paused-{width}x{height}")
    assert_axe_clean(page, axe_violations)
