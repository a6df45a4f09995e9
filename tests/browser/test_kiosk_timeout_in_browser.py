"""A kiosk left at any step starts again for the next patient: a warning first, with a
button to stay (WCAG 2.2.1), then back to the first question. Playwright's clock moves
the page's time, so the test does not wait in real time."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from survey_app.models import ExperienceRating
from tests.browser.pages import sign_in

pytestmark = pytest.mark.browser

TABLET = (1024, 768)
TIMEOUT = 60  # PULSE_KIOSK_TIMEOUT_SECONDS, by default
QUESTION = "How good are you at taking care of your health?"


def _enrol(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin@example.test")
    page.goto(live_server + "/kiosk/enrol")
    page.get_by_label("Site").select_option("RMP")
    page.get_by_label("Name for this tablet").fill("Reception tablet")
    page.get_by_role("button", name="Enrol and start").click()
    page.wait_for_url(live_server + "/kiosk")


def _violations(page: Any, axe_violations: Any) -> list[dict[str, Any]]:
    return axe_violations(page)


@pytest.mark.page_only
@pytest.mark.parametrize("size", [(360, 640), (1280, 800), TABLET])
def test_the_follow_up_question_warns_then_starts_again(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot, size):
    make_site("RMP")
    make_user("admin")
    page = new_page(*size)
    page.clock.install()
    _enrol(page, live_server)
    page.get_by_role("button", name="4 Excellent", exact=True).click()
    page.wait_for_url("**/kiosk/experience")
    warning = page.get_by_role("alert")
    stay = page.get_by_role("button", name="I'm still here")
    assert not stay.is_visible()
    # Without a script the big "New patient" button does it; it is there for everyone.
    assert page.get_by_role("link", name="New patient").is_visible()

    # The patient walks away. 20 seconds before the timeout: a warning, and time to stay.
    page.clock.fast_forward((TIMEOUT - 20 + 1) * 1000)
    warning.wait_for()
    assert "Are you still there?" in warning.inner_text()
    assert "20 seconds" in warning.inner_text()
    assert stay.is_visible()
    screenshot(page, f"activation-kiosk-timeout-warning-{size[0]}x{size[1]}")
    assert _violations(page, axe_violations) == []

    stay.click()
    assert not stay.is_visible()
    page.clock.fast_forward(30_000)  # 71 s since the question was shown, 30 since "stay"
    assert page.url == live_server + "/kiosk/experience"
    assert not stay.is_visible()

    # Then nobody taps for the whole timeout: back to the start, nothing of theirs shown.
    page.clock.fast_forward((TIMEOUT + 1) * 1000 - 30_000)
    page.wait_for_url(live_server + "/kiosk")
    page.get_by_role("heading", name=QUESTION).wait_for()
    html = page.content()
    assert "Excellent" in html and "checked" not in html and "Thank you" not in html
    assert 'aria-pressed="true"' not in html
    assert page.evaluate("document.activeElement === document.body")
    # The abandoned follow-up question is spent: Back or a bookmark cannot reopen it.
    page.goto(live_server + "/kiosk/experience")
    assert page.url == live_server + "/kiosk"
    session.expire_all()
    assert session.exec(select(ExperienceRating)).all() == []
    assert _violations(page, axe_violations) == []


@pytest.mark.page_only
def test_the_thanks_page_starts_again_after_the_timeout_even_when_tapped(
        live_server, new_page, make_site, make_user, axe_violations):
    make_site("RMP")
    make_user("admin")
    page = new_page(*TABLET)
    page.clock.install()
    _enrol(page, live_server)
    page.get_by_role("button", name="2 Okay", exact=True).click()
    page.wait_for_url("**/kiosk/experience")
    page.get_by_role("button", name="Skip this question").click()
    page.wait_for_url("**/kiosk/thanks")
    # A tap stops the quick reset, but not the timeout.
    page.locator(".nhsuk-panel").click()
    page.clock.fast_forward(10_000)
    assert page.url.endswith("/kiosk/thanks")
    page.clock.fast_forward((TIMEOUT - 20 - 10 + 1) * 1000)
    page.get_by_role("button", name="I'm still here").wait_for()
    page.clock.fast_forward(21_000)
    page.wait_for_url(live_server + "/kiosk")
    page.get_by_role("heading", name=QUESTION).wait_for()
