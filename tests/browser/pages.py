"""Steps every browser test takes the same way: signing in, and checking with axe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import PASSWORD, app_under_test, fresh_totp_code


def sign_in(page: Any, live_server: str, email: str, password: str = PASSWORD, *,
            landing: str | None = None) -> None:
    """Sign in through /login as a person would, then wait for the page it leads to:
    ``landing`` (a URL glob), or by default any page that is not a sign-in step.

    When the app asks for a code (leads and admins), it is typed in as an
    authenticator app would give it (pyotp, with the account's known secret).
    """
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/login/code" in page.url:
        page.get_by_label("Code").fill(fresh_totp_code(app_under_test(), email))
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(landing or (lambda url: "/login" not in url))


def assert_axe_clean(page: Any, axe_violations: Callable[[Any], list[dict[str, Any]]]) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"
