"""Patient activation in a real browser: the recorder on a phone, the kiosk on a tablet,
the QR page on a patient's phone, and axe-core (WCAG 2.2 AA) on every page they show."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select

from survey_app.models import ActivationRating, ExperienceRating
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = pytest.mark.browser

PHONE = (360, 640)
TABLET = (1024, 768)
MIN_TARGET = 44  # px: the tap-target size for staff and patients alike

# Everything a finger can operate. The checkbox is measured by its item (box plus
# label: the whole row is the target); the skip link only appears on keyboard focus.
TARGETS = """() => {
  const selector = 'a:not(.nhsuk-skip-link), button, select, summary, .nhsuk-checkboxes__item, '
    + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  return [...document.querySelectorAll(selector)]
    // checkVisibility: not in a closed <details>, not display:none, not visibility:hidden.
    .filter((el) => el.checkVisibility({visibilityProperty: true}))
    .map((el) => {
      const box = el.getBoundingClientRect();
      const name = (el.innerText || el.name || el.id || '').trim().replace(/\\s+/g, ' ');
      return {target: el.tagName.toLowerCase() + ' ' + name.slice(0, 40),
              height: Math.round(box.height * 10) / 10, width: Math.round(box.width * 10) / 10};
    });
}"""


def _targets(page: Any) -> list[dict[str, Any]]:
    targets = page.evaluate(TARGETS)
    assert targets, "no targets found: the selector is wrong"
    return targets


def _small_targets(page: Any, minimum: int = MIN_TARGET) -> list[dict[str, Any]]:
    return [t for t in _targets(page) if t["height"] < minimum or t["width"] < minimum]


def _scroll_size(page: Any) -> tuple[int, int]:
    return page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")


def _assert_fits(page: Any, width: int, height: int) -> None:
    """Nothing to scroll, either way."""
    scroll_width, scroll_height = _scroll_size(page)
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width} > {width}"
    assert scroll_height <= height, f"{page.url} needs scrolling: {scroll_height} > {height}"


# A timed <meta http-equiv="refresh"> is WCAG 2.2.1 "meta-refresh" to axe: the kiosk
# resets by script instead, which a tap cancels.
TIMED_REFRESH = "meta-refresh"


def _ratings(session: Any) -> list[ActivationRating]:
    session.expire_all()
    return list(session.exec(select(ActivationRating)).all())


# --- the clinician, inside the consultation -------------------------------------------


def test_a_clinician_records_in_two_taps_on_a_phone_with_nothing_to_scroll(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    page = new_page(*PHONE)
    page.goto(live_server + "/login")
    assert_axe_clean(page, axe_violations)
    sign_in(page, live_server, "recorder@example.test", landing="**/activation/record")

    # One site: nothing to choose there, so no site select.
    assert page.locator("select#site").count() == 0
    _assert_fits(page, *PHONE)
    assert _small_targets(page) == []
    for name in ["1 Not very", "2 Okay", "3 Good", "4 Excellent"]:
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    screenshot(page, "activation-record-phone")
    assert_axe_clean(page, axe_violations)

    # The two taps: the consultation type, then the answer.
    page.get_by_label("Consultation").select_option("nurse")
    page.get_by_role("button", name="1 Not very", exact=True).click()
    saved = page.get_by_role("status")
    saved.wait_for()
    assert "Saved: 1 Not very" in saved.inner_text()
    # A low rating brings the INT's prompt, and the page must still fit.
    assert "social prescribing" in saved.inner_text()
    _assert_fits(page, *PHONE)
    assert _small_targets(page) == []
    screenshot(page, "activation-record-phone-saved")
    assert_axe_clean(page, axe_violations)

    [rating] = _ratings(session)
    assert (rating.rating, rating.channel, rating.consultation_type, rating.proxy) == (
        1, "clinician", "nurse", False)
    # Ready for the next patient: the consultation type is remembered, one tap records.
    assert page.get_by_label("Consultation").input_value() == "nurse"

    page.get_by_role("button", name="Undo").click()
    page.get_by_text("Undone").wait_for()
    assert _ratings(session) == []
    assert page.get_by_role("status").count() == 0
    _assert_fits(page, *PHONE)
    assert _small_targets(page) == []


@pytest.mark.page_only
def test_a_recorder_with_two_sites_and_the_follow_up_fields_still_fits(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot):
    make_site("RMP")
    make_site("HUB")
    make_user("recorder", sites=("RMP", "HUB"))
    page = new_page(*PHONE)
    sign_in(page, live_server, "recorder@example.test", landing="**/activation/record")
    # Two sites: nothing is guessed; the recorder chooses, then sees it above the answers.
    site = page.locator("select[name=site]")
    assert site.is_visible()
    _assert_fits(page, *PHONE)
    assert _small_targets(page) == []
    site.select_option("RMP")
    page.get_by_role("button", name="Use this site").click()
    page.get_by_role("link", name="Change your site").wait_for()

    # The follow-up fields are a tap away; opened, they are still big enough to tap.
    page.get_by_text("Follow-up and carer").click()
    nhs_number = page.get_by_label("NHS number")
    assert nhs_number.is_visible()
    assert _small_targets(page) == []
    screenshot(page, "activation-record-phone-follow-up")

    # A mistyped NHS number: a clear error, linked from the summary, nothing stored.
    nhs_number.fill("123")
    page.get_by_role("button", name="2 Okay", exact=True).click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "An NHS number has 10 digits" in summary.inner_text()
    # The typo stays in the box, so it can be seen and fixed.
    assert page.locator("#nhs_number").input_value() == "123"
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "nhs_number"
    assert _ratings(session) == []
    assert _small_targets(page) == []
    screenshot(page, "activation-record-phone-error")
    assert_axe_clean(page, axe_violations)

    # The worst common case: two sites, a carer answered, a low rating and its prompt.
    nhs_number.fill("")
    page.get_by_role("link", name="Change your site").click()
    page.locator("select[name=site]").select_option("HUB")
    page.get_by_role("button", name="Use this site").click()
    page.get_by_role("link", name="Change your site").wait_for()
    page.get_by_text("Follow-up and carer").click()
    page.get_by_label("A carer answered").check()
    page.get_by_role("button", name="2 Okay", exact=True).click()
    page.get_by_role("status").wait_for()
    assert "Saved: 2 Okay" in page.get_by_role("status").inner_text()
    _assert_fits(page, *PHONE)
    assert _small_targets(page) == []
    [rating] = _ratings(session)
    assert (rating.rating, rating.channel, rating.proxy, rating.patient_pseudonym) == (
        2, "clinician", True, None)
    assert page.locator(".pulse-fields__fixed").inner_text() == "Site HUB"


# --- the waiting-room kiosk ----------------------------------------------------------


def _enrol(page: Any, live_server: str, *, ask_experience: bool) -> None:
    sign_in(page, live_server, "admin@example.test")
    page.goto(live_server + "/kiosk/enrol")
    page.get_by_label("Site").select_option("RMP")
    page.get_by_label("Name for this tablet").fill("Reception tablet")
    page.get_by_label("Also ask").set_checked(ask_experience)
    page.get_by_role("button", name="Enrol and start").click()
    page.wait_for_url(live_server + "/kiosk")


@pytest.mark.page_only
def test_the_kiosk_asks_full_screen_resets_itself_and_never_shows_an_answer(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot):
    make_site("RMP")
    make_user("admin")
    page = new_page(*TABLET)
    page.goto(live_server + "/kiosk")
    assert "This device is not a kiosk" in page.content()
    assert_axe_clean(page, axe_violations)

    _enrol(page, live_server, ask_experience=True)
    # The admin is signed out: the tablet is for patients now.
    assert page.get_by_text("Signed in as").count() == 0

    question = page.get_by_role("heading", name="How good are you at taking care of your health?")
    assert question.is_visible()
    buttons = page.get_by_role("group").get_by_role("button").all()
    assert len(buttons) == 4
    for button in buttons:
        box = button.bounding_box()
        assert box["height"] >= 120 and box["y"] + box["height"] <= TABLET[1], box
    _assert_fits(page, *TABLET)
    assert _small_targets(page) == []
    screenshot(page, "activation-kiosk-tablet")
    assert_axe_clean(page, axe_violations)

    page.get_by_role("button", name="3 Good", exact=True).click()
    page.wait_for_url("**/kiosk/experience")
    assert page.get_by_role("heading", name="Overall, how was your experience").is_visible()
    _assert_fits(page, *TABLET)
    assert _small_targets(page) == []
    screenshot(page, "activation-kiosk-experience-tablet")
    assert_axe_clean(page, axe_violations)

    page.get_by_role("button", name="Very good", exact=True).click()
    page.wait_for_url("**/kiosk/thanks")
    thanked = time.monotonic()
    assert page.get_by_role("heading", name="Thank you").is_visible()
    _assert_fits(page, *TABLET)
    assert_axe_clean(page, axe_violations)
    screenshot(page, "activation-kiosk-thanks-tablet")

    session.expire_all()
    [rating] = _ratings(session)
    [experience] = session.exec(select(ExperienceRating)).all()
    assert (rating.rating, rating.channel, experience.answer) == (3, "kiosk", "very_good")

    # It gets ready for the next patient by itself, showing nothing of this one.
    page.wait_for_url(live_server + "/kiosk", timeout=9000)
    assert time.monotonic() - thanked < 8.5
    question.wait_for()
    _assert_no_previous_answer(page)

    # Back never shows an answer: the reset replaced the thanks page in the history,
    # and the follow-up question is spent (its one-time key went with the answer),
    # so Back to it lands on a fresh question.
    back = page.go_back()
    assert back is not None and back.request.redirected_from is not None
    assert back.request.redirected_from.url == live_server + "/kiosk/experience"
    assert page.url == live_server + "/kiosk"
    _assert_no_previous_answer(page)
    assert len(_ratings(session)) == 1


@pytest.mark.page_only
def test_kiosk_pages_reset_without_a_timed_meta_refresh(live_server, new_page, make_site,
                                                        make_user, axe_violations):
    make_site("RMP")
    make_user("admin")
    page = new_page(*TABLET)
    _enrol(page, live_server, ask_experience=False)
    timed = [v for v in axe_violations(page) if v["id"] == TIMED_REFRESH]
    page.get_by_role("button", name="2 Okay", exact=True).click()
    page.wait_for_url("**/kiosk/thanks")
    timed += [v for v in axe_violations(page) if v["id"] == TIMED_REFRESH]
    assert timed == []
    # A tap anywhere but "New patient" stops the reset (WCAG 2.2.1).
    page.locator(".nhsuk-panel").click()
    page.wait_for_timeout(7500)
    assert page.url.endswith("/kiosk/thanks")


def _assert_no_previous_answer(page: Any) -> None:
    html = page.content()
    assert "Saved" not in html and "checked" not in html and 'aria-pressed="true"' not in html
    assert page.evaluate("document.activeElement === document.body"), "a button kept focus"


@pytest.mark.page_only
def test_the_kiosk_without_javascript_has_a_next_patient_button(
        live_server, new_page, make_site, make_user, session):
    make_site("RMP")
    make_user("admin")
    page = new_page(*TABLET, javascript=False)
    _enrol(page, live_server, ask_experience=False)
    page.get_by_role("button", name="1 Not very", exact=True).click()
    page.wait_for_url("**/kiosk/thanks")  # no follow-up question for this tablet
    page.get_by_role("link", name="New patient").click()
    page.wait_for_url(live_server + "/kiosk")
    assert page.get_by_role("button", name="4 Excellent", exact=True).is_visible()
    [rating] = _ratings(session)
    assert (rating.rating, rating.channel) == (1, "kiosk")


# --- the patient's own phone, by QR code -------------------------------------------


def test_a_patient_answers_by_qr_code_once_a_day(
        live_server, new_page, make_site, session, axe_violations, screenshot):
    make_site("RMP")
    page = new_page(*PHONE)
    page.goto(live_server + "/q/RMP")
    assert page.get_by_role("heading",
                            name="How good are you at taking care of your health?").is_visible()
    assert page.locator("svg.pulse-picture").count() == 0
    # All four answers on the first screen, nothing sideways, big enough to tap.
    last = page.get_by_role("button", name="4 Excellent", exact=True).bounding_box()
    assert last["y"] + last["height"] <= PHONE[1]
    assert _scroll_size(page)[0] <= PHONE[0]
    assert _small_targets(page) == []
    screenshot(page, "activation-qr-phone")
    assert_axe_clean(page, axe_violations)

    page.get_by_role("button", name="2 Okay", exact=True).click()
    page.wait_for_url("**/q/RMP/experience")
    assert _small_targets(page) == []
    assert_axe_clean(page, axe_violations)
    page.get_by_role("button", name="Skip this question").click()
    page.wait_for_url("**/q/RMP/thanks")
    assert page.get_by_role("heading", name="Thank you").is_visible()
    assert_axe_clean(page, axe_violations)

    [rating] = _ratings(session)
    assert (rating.rating, rating.channel, rating.easy_read) == (2, "qr", False)
    assert session.exec(select(ExperienceRating)).all() == []

    page.goto(live_server + "/q/RMP")
    assert page.get_by_role("heading", name="You have already answered today").is_visible()
    assert page.get_by_role("button").count() == 0  # nothing to answer again
    assert_axe_clean(page, axe_violations)
    assert len(_ratings(session)) == 1


@pytest.mark.page_only
def test_the_easy_read_qr_page_shows_pictures_and_easy_words(
        live_server, new_page, make_site, session, axe_violations, screenshot):
    make_site("RMP")
    page = new_page(*PHONE)
    page.goto(live_server + "/q/RMP?easy=1")
    pictures = page.locator("svg.pulse-picture")
    assert pictures.count() == 4
    for picture in pictures.all():
        box = picture.bounding_box()
        assert picture.is_visible() and box["width"] >= 40 and box["height"] >= 24, box
    for name in ["1 Not very good", "2 Okay", "3 Good", "4 Very good"]:
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    assert _scroll_size(page)[0] <= PHONE[0]
    assert _small_targets(page) == []
    screenshot(page, "activation-qr-easy-read-phone")
    assert_axe_clean(page, axe_violations)
    page.get_by_role("button", name="1 Not very good", exact=True).click()
    page.wait_for_url("**/q/RMP/experience")
    [rating] = _ratings(session)
    assert (rating.rating, rating.channel, rating.easy_read) == (1, "qr", True)


@pytest.mark.page_only
def test_the_poster_passes_axe(live_server, new_page, make_site, make_user, axe_violations,
                               screenshot):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    page = new_page(*PHONE)
    sign_in(page, live_server, "recorder@example.test", landing="**/activation/record")
    page.goto(live_server + "/sites/RMP/poster")
    qr = page.locator(".pulse-poster svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 200
    assert "/q/RMP" in page.locator(".pulse-poster").inner_text()
    assert _scroll_size(page)[0] <= PHONE[0]
    screenshot(page, "activation-poster-phone")
    assert_axe_clean(page, axe_violations)
