"""A lead's monthly visit in a real browser: sign in, read the INT overview, open a team,
log an action and see it on the chart; axe-core (WCAG 2.2 AA) on every page, and
screenshots of the overview and a team page at desktop and phone widths."""

from __future__ import annotations

from datetime import timedelta

import pytest

from survey_app import demo
from survey_app.core.clock import utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = pytest.mark.browser

DESKTOP = (1280, 900)
PHONE = (360, 640)
LEAD = f"lead@{demo.EMAIL_DOMAIN}"


def test_a_lead_reads_the_overview_and_logs_an_action(riverside, live_server, new_page,
                                                      axe_violations, screenshot):
    page = new_page(*DESKTOP)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    page.goto(live_server + f"/reports/{demo.INT_SLUG}")
    assert page.get_by_role("link", name="District nursing").count() >= 1
    assert_axe_clean(page, axe_violations)
    screenshot(page, "reports-overview-desktop")

    page.get_by_role("link", name="District nursing").first.click()
    page.wait_for_url("**/teams/district-nursing")
    assert_axe_clean(page, axe_violations)
    screenshot(page, "reports-team-desktop")
    markers_before = page.locator("svg g.event").count()

    # Two months ago: between closed pulses, so it is drawn on the charts.
    taken_on = (utcnow() - timedelta(days=60)).date()
    actions = page.locator("#add-action + form")
    actions.get_by_label("Day").fill(str(taken_on.day))
    actions.get_by_label("Month").fill(str(taken_on.month))
    actions.get_by_label("Year").fill(str(taken_on.year))
    page.get_by_label("What was done").fill("Moved the team huddle to 08:45 at staff's request")
    page.get_by_label("Stage of the improvement cycle").select_option(label="Act")
    page.get_by_role("button", name="Add the action").click()
    page.wait_for_url("**/teams/district-nursing**")
    assert page.get_by_text("Moved the team huddle to 08:45").count() >= 1
    # Drawn on the charts: one more event marker than before, on each chart.
    assert page.locator("svg g.event").count() > markers_before
    assert_axe_clean(page, axe_violations)


@pytest.mark.page_only
def test_report_pages_read_on_a_phone(riverside, live_server, new_page, axe_violations,
                                      screenshot):
    page = new_page(*PHONE)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    for path, name in ((f"/reports/{demo.INT_SLUG}", "reports-overview-phone"),
                       (f"/reports/{demo.INT_SLUG}/teams/district-nursing", "reports-team-phone"),
                       (f"/reports/{demo.INT_SLUG}/activation", "reports-activation-phone")):
        page.goto(live_server + path)
        assert_axe_clean(page, axe_violations)
        # Wide tables scroll inside their own box, the page itself does not.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE[0] + 1, f"{path} is {width}px wide on a {PHONE[0]}px phone"
        screenshot(page, name)
