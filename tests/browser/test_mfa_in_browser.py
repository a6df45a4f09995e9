"""Two-step sign-in in a real browser: a lead sets up an authenticator app from the QR
page (the code typed from pyotp, as an app would show it), saves the recovery codes,
then signs in again with a code; at phone and desktop widths, axe-clean throughout."""

from __future__ import annotations

import pytest

from survey_app.accounts import mfa
from survey_app.core.clock import utcnow
from tests.browser.pages import assert_axe_clean
from tests.conftest import PASSWORD, fresh_totp_code

pytestmark = pytest.mark.browser

LEAD = "lead@example.test"


def _password(page, live_server):
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(LEAD)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_a_lead_sets_up_an_app_from_the_qr_then_signs_in_with_a_code(
        app, live_server, new_page, make_site, make_user, axe_violations, screenshot,
        width, height):
    make_site("RMP")
    make_user("lead", ints=("test-int",), totp=False)
    page = new_page(width, height)
    _password(page, live_server)
    page.wait_for_url("**/login/set-up")
    qr = page.locator(".pulse-mfa-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_axe_clean(page, axe_violations)
    screenshot(page, f"mfa-enrol-{width}")

    # Nothing else opens yet.
    page.goto(live_server + "/reports/")
    page.wait_for_url("**/login/set-up**")

    page.get_by_label("Code from your app").fill("12345")
    page.get_by_role("button", name="Set up two-step sign-in").click()
    assert page.locator(".nhsuk-error-summary").is_visible()
    assert_axe_clean(page, axe_violations)

    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    page.get_by_label("Code from your app").fill(mfa.code_at(secret, moment=utcnow()))
    page.get_by_role("button", name="Set up two-step sign-in").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    assert page.locator("#recovery-codes li").count() == 10
    assert_axe_clean(page, axe_violations)
    screenshot(page, f"mfa-recovery-codes-{width}")
    page.get_by_role("link", name="I have saved my codes: continue").click()
    page.wait_for_url("**/reports/")

    # Another browser: the password, then the code the app shows now.
    again = new_page(width, height)
    _password(again, live_server)
    again.wait_for_url("**/login/code")
    assert_axe_clean(again, axe_violations)
    screenshot(again, f"mfa-code-{width}")
    again.get_by_label("Code").fill(fresh_totp_code(app, LEAD, secret))
    again.get_by_role("button", name="Continue").click()
    again.wait_for_url("**/reports/")
    assert again.get_by_role("heading", level=1).is_visible()
