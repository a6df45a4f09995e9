"""The audit log in a real browser: events in words, each date on one line, a filter
that a phone can use, axe-clean at phone and desktop widths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from survey_app.core import audit
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import User
from tests.browser.pages import sign_in

pytestmark = pytest.mark.browser

ADMIN = "admin@riverside-int.example"
LEAD = "lead@riverside-int.example"


@pytest.mark.page_only
@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_the_audit_log_reads_in_words_with_each_date_on_one_line(
        live_server, new_page, riverside, session, axe_violations, screenshot, width, height):
    lead = session.exec(select(User).where(User.email == LEAD)).one()
    start = datetime(2026, 11, 17, 9, 5, tzinfo=UTC)
    for n, (action, target) in enumerate([
            ("report.view", "overview:riverside"),
            ("report.csv", "team:riverside/district-nursing"),
            ("report.pdf", "team:riverside/gp-practice"),
            ("export.fhir", "activation:riverside")]):
        audit.record(session, user_id=lead.id, action=action, target=target,
                     now=start + timedelta(minutes=n))
    session.commit()

    page = new_page(width, height)
    sign_in(page, live_server, ADMIN, password=DEMO_PASSWORD, landing="**/admin/**")
    page.goto(live_server + "/admin/audit")
    table = page.locator("table.pulse-audit")
    assert f"{LEAD} viewed the overview of Riverside Integrated Neighbourhood Team" in \
        table.inner_text()
    assert f"{LEAD} exported the team CSV of District nursing" in table.inner_text()
    # Nothing wider than the screen: no sideways scrolling, even with long addresses.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _assert_dates_on_one_line(page)
    assert axe_violations(page) == []
    screenshot(page, f"audit-log-{width}")

    # Filter by who and what, in words, from the form.
    page.get_by_label("Who").select_option(label=LEAD)
    page.get_by_label("What").select_option(label="Exported a CSV")
    page.get_by_role("button", name="Show events").click()
    page.wait_for_url("**action=report.csv**")
    rows = page.locator("td.pulse-audit__what").all_inner_texts()
    assert rows == [f"{LEAD} exported the team CSV of District nursing "
                    "(Riverside Integrated Neighbourhood Team)"]

    # A date that cannot be: the error summary names it, and the page is still clean.
    page.locator("#since-day").fill("31")
    page.locator("#since-month").fill("2")
    page.locator("#since-year").fill("2026")
    page.get_by_role("button", name="Show events").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "From must be a real date: February 2026 has no day 31" in summary.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    screenshot(page, f"audit-log-error-{width}")


def _assert_dates_on_one_line(page) -> None:
    """Each date cell's text is one line: one line box, no taller than the line height.

    (The cell itself is as tall as its row, whose sentence may wrap; its text is not.)
    """
    cells = page.evaluate("""() => [...document.querySelectorAll('td.pulse-nowrap')].map(td => {
        const range = document.createRange();
        range.selectNodeContents(td);
        const style = getComputedStyle(td);
        return {text: td.innerText, lines: range.getClientRects().length,
                height: range.getBoundingClientRect().height,
                line: parseFloat(style.lineHeight)};
    })""")
    assert len(cells) >= 5  # the four above and the admin's sign-in
    for cell in cells:
        assert cell["lines"] == 1 and cell["height"] <= cell["line"], cell


@pytest.mark.page_only
@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_the_admin_home_lists_the_admin_pages_accessibly(
        live_server, new_page, riverside, axe_violations, screenshot, width, height):
    page = new_page(width, height)
    sign_in(page, live_server, ADMIN, password=DEMO_PASSWORD, landing="**/admin/**")
    page.get_by_role("link", name="Home").click()
    page.wait_for_url("**/home")
    for name in ("Audit log: who did what, and when", "Outbox: messages sent and waiting",
                 "Settings of Riverside Integrated Neighbourhood Team",
                 "API tokens for reading your figures"):
        assert page.get_by_role("link", name=name).is_visible(), name
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    screenshot(page, f"admin-home-{width}")
