"""An INT's retention periods in a real browser: an admin breaks a rule, is shown it in
the error summary and beside the box, fixes it and saves; on a phone (360 x 640) and a
desktop (1280 x 800), axe-clean, with screenshots in test-artifacts/."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from sqlmodel import select

from survey_app import demo
from survey_app.demo.patients import DEMO_PASSWORD, DEMO_TOTP_SECRETS
from survey_app.models import Neighbourhood

pytestmark = pytest.mark.browser

SIZES = [(360, 640), (1280, 800)]
RULE = "Keep individual answers no longer than the per-pulse totals (3650 days)"
ADMIN = f"admin@{demo.EMAIL_DOMAIN}"


def _sign_in_admin(page: Any, live_server: str) -> None:
    """Password, then the demo admin's two-step code, as they would type them."""
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code**")
    page.locator("#code").fill(pyotp.TOTP(DEMO_TOTP_SECRETS[ADMIN]).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["phone", "desktop"])
def test_an_admin_sets_how_long_answers_are_kept(live_server, new_page, session, riverside,
                                                width, height, axe_violations, screenshot):
    page = new_page(width, height)
    _sign_in_admin(page, live_server)
    page.goto(f"{live_server}/admin/ints/{demo.INT_SLUG}")
    group = page.get_by_role("group", name="How long data is kept")
    answers = group.get_by_label("Individual answers to each question")
    assert answers.input_value() == "730"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []

    answers.fill("4000")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible()
    summary.get_by_role("link", name=RULE).click()
    assert page.evaluate("document.activeElement.id") == "retain_answers_days"
    assert " ".join(page.locator("#retain_answers_days-error").inner_text().split()) == (
        f"Error: {RULE}")
    assert axe_violations(page) == []
    screenshot(page, f"test_an_admin_sets_how_long_answers_are_kept-error-{width}")

    answers = page.get_by_label("Individual answers to each question")
    answers.fill("1095")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    assert page.get_by_label("Individual answers to each question").input_value() == "1095"
    assert axe_violations(page) == []
    screenshot(page, f"test_an_admin_sets_how_long_answers_are_kept-saved-{width}")
    session.expire_all()
    neighbourhood = session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == demo.INT_SLUG)).one()
    assert neighbourhood.retain_answers_days == 1095
