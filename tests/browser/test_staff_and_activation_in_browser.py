"""Staff's results page and a lead's activation report in a real browser, phone and desktop.

Staff read where "you said, we did" has got to in plain words ("Checking whether
it worked", not the improvement cycle's "Study"); the activation report shows
the month in progress as a row marked "so far (month in progress)", left out of
its charts. axe-core (WCAG 2.2 AA) on each page, and a screenshot at each width.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from survey_app import demo
from survey_app.activation.ratings import RatingInput, record_activation
from survey_app.core.clock import local_date, utcnow
from survey_app.demo.patients import DEMO_PASSWORD, STEADY_SITE
from survey_app.models import Site
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = pytest.mark.browser

SIZES = [(360, 640), (1280, 800)]
LEAD = f"lead@{demo.EMAIL_DOMAIN}"
SO_FAR = 6  # ratings given this month, before it ends


def _assert_no_sideways_scroll(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"{page.url} is {scroll}px wide at {width}px"


@pytest.mark.page_only
@pytest.mark.parametrize("width, height", SIZES)
def test_staff_read_what_is_happening_not_the_stage_name(riverside, live_server, new_page,
                                                          axe_violations, screenshot,
                                                          width, height):
    page = new_page(width, height)
    page.goto(live_server + f"/results/{demo.INT_SLUG}/{demo.IMPROVING_TEAM}")
    # The demo's latest action for district nursing is at the PDSA "Study" stage.
    tag = page.locator(".nhsuk-card .nhsuk-tag")
    assert tag.inner_text() == "Checking whether it worked"
    assert tag.is_visible()
    assert page.get_by_text("Study", exact=True).count() == 0
    assert_axe_clean(page, axe_violations)
    _assert_no_sideways_scroll(page, width)
    screenshot(page, f"staff-results-stage-words-{width}")


@pytest.fixture
def month_so_far(app, session, riverside):
    """Six ratings today at the demo's GP practice: the month in progress so far."""
    site = session.exec(select(Site).where(Site.code == STEADY_SITE)).one()
    instrument = app.extensions["pulse_instruments"]["patient-activation"]
    now = utcnow()
    for index in range(SO_FAR):
        record_activation(session, entry=RatingInput(
            site=site, channel="clinician", rating=1 + index % 4, on=local_date(now),
            idempotency_key=f"so-far-{index}"), instrument=instrument, pseudonym_key=None,
            user_id=None, now=now)
    session.commit()
    return f"{local_date(now):%b %Y}"


@pytest.mark.parametrize("width, height", SIZES)
def test_a_lead_sees_the_month_in_progress_marked_and_left_out_of_the_charts(
        month_so_far, live_server, new_page, axe_violations, screenshot, width, height):
    page = new_page(width, height)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    page.goto(live_server + f"/reports/{demo.INT_SLUG}/activation")

    note = page.locator(".pulse-month-in-progress")
    assert note.is_visible()
    assert f"{month_so_far} has not ended: {SO_FAR} ratings so far." in note.inner_text()
    # The charts draw the twelve months that have ended, not this one.
    labels = page.locator("#activation-distribution .x-label").all_text_contents()
    assert labels and month_so_far not in labels
    # The month's row in the table, shown when the reader asks for the figures.
    page.get_by_text("Show the figures as a table").first.click()
    row = page.locator("#distribution-table tr", has_text="so far (month in progress)")
    assert row.count() == 1 and row.is_visible()
    assert row.locator("th").inner_text() == f"{month_so_far} so far (month in progress)"
    assert row.locator("td").first.inner_text() == str(SO_FAR)
    assert_axe_clean(page, axe_violations)
    _assert_no_sideways_scroll(page, width)
    screenshot(page, f"activation-month-in-progress-{width}")
