"""Organisation sign-in in a real browser, through a real OpenID Provider on loopback
(npm's oidc-provider): the admin sees it set up and turns Pulse passwords off, then the
demo's lead signs in with the provider's button, on a phone and on a desktop."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts import oidc_loopback
from tests.browser.pages import assert_axe_clean

pytestmark = pytest.mark.browser

ADMIN = "admin@riverside-int.example"
LEAD = "lead@riverside-int.example"
# The loopback provider's fixtures, for this module's tests.
oidc_provider = oidc_loopback.oidc_provider
provider = oidc_loopback.provider


@pytest.fixture
def app_config(oidc_provider):
    return {"PULSE_OIDC": oidc_provider.settings(allowed_domains=("riverside-int.example",))}


@pytest.fixture
def pulse(app, live_server, riverside) -> str:
    # The callback the provider sends the browser back to is this server's.
    app.config["PULSE_BASE_URL"] = live_server
    return live_server


def _through_the_provider(page: Any, pulse: str, sub: str, landing: str) -> None:
    page.goto(pulse + "/login")
    page.get_by_role("link", name="Sign in with NHSmail").click()
    page.wait_for_url("**/interaction/**")  # the provider's own sign-in page
    page.locator("input[name=login]").fill(sub)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(pulse + landing)


@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_an_admin_turns_passwords_off_and_a_lead_signs_in_with_nhsmail(
        pulse, provider, new_page, axe_violations, screenshot, width, height):
    provider.add_account("entra-admin", ADMIN)
    provider.add_account("entra-lead", LEAD)
    admin = new_page(width, height)
    admin.goto(pulse + "/login")
    assert admin.get_by_label("Password").count() == 1  # passwords stay until turned off
    assert_axe_clean(admin, axe_violations)
    screenshot(admin, f"test_oidc_sign_in_page-{width}")

    _through_the_provider(admin, pulse, "entra-admin", "/admin/users")
    admin.goto(pulse + "/admin/sign-in")
    assert admin.get_by_text("Organisation sign-in is set up").is_visible()
    admin.get_by_label("No, only with their organisation account").check()
    admin.get_by_role("button", name="Save").click()
    admin.wait_for_url(pulse + "/admin/sign-in")
    assert admin.get_by_text("only with their organisation account").first.is_visible()
    assert_axe_clean(admin, axe_violations)
    screenshot(admin, f"test_oidc_admin_sign_in_settings-{width}")

    lead = new_page(width, height)
    lead.goto(pulse + "/login")
    assert lead.get_by_label("Password").count() == 0
    assert_axe_clean(lead, axe_violations)
    _through_the_provider(lead, pulse, "entra-lead", "/reports/")
    assert lead.get_by_role("heading", level=1).first.is_visible()
    assert_axe_clean(lead, axe_violations)
    screenshot(lead, f"test_oidc_lead_signed_in-{width}")


@pytest.mark.page_only
@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_the_refusal_page_for_someone_without_an_account(
        pulse, provider, new_page, axe_violations, screenshot, width, height):
    provider.add_account("entra-stranger", "stranger@riverside-int.example")
    page = new_page(width, height)
    _through_the_provider(page, pulse, "entra-stranger", "/login/oidc/callback**")
    assert page.get_by_role("heading", name="You have not been signed in").is_visible()
    assert page.get_by_text("There is no Pulse account for your email address").is_visible()
    assert_axe_clean(page, axe_violations)
    screenshot(page, f"test_oidc_refused-{width}")
