"""The admin's programme pages in a real browser, signed in through the login form, with
axe-core (WCAG 2.2 AA) on each state: the burden shown, a refused schedule, a roster with
errors, the outbox and the messages that need attention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import Message, Schedule, StaffMember
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = pytest.mark.browser

DESKTOP = (1024, 768)
PHONE = (360, 640)
BAD_ROSTER = """Employee Number,Full Name,Work Email,Mobile,Team,Staff Group,Start Date,Leave Date
1,Bad Email,not-an-email,,district-nursing,Nursing,,
2,Unknown Team,,,podiatry,Nursing,,
"""


@pytest.fixture
def admin_page(live_server, new_page, make_user) -> Any:
    """A desktop browser page signed in as an admin through /login."""
    make_user("admin")
    page = new_page(*DESKTOP)
    sign_in(page, live_server, "admin@example.test", landing="**/admin/users")
    return page


def _fill_date(page: Any, name: str, day: str, month: str, year: str) -> None:
    for part, typed in (("day", day), ("month", month), ("year", year)):
        page.locator(f"#{name}-{part}").fill(typed)


@pytest.mark.page_only
def test_the_schedules_page_shows_the_burden_and_errors_accessibly(
        admin_page, live_server, make_team, session, axe_violations, screenshot):
    make_team(slug="district-nursing", size=0)
    page = admin_page
    page.goto(live_server + "/admin/schedules")
    assert_axe_clean(page, axe_violations)

    page.get_by_label("Quarterly (January, April, July and October), on a chosen weekday").check()
    page.get_by_label("Which one in the month").select_option(label="Last")
    page.get_by_label("Weekday", exact=True).select_option(label="Thursday")
    _fill_date(page, "start_date", "1", "12", "2026")
    page.get_by_role("button", name="Check the burden").click()
    burden = page.locator("#burden")
    burden.wait_for()
    assert "Invitations a year 4" in " ".join(burden.inner_text().split())
    screenshot(page, "admin-schedules-burden")
    assert_axe_clean(page, axe_violations)
    assert session.exec(select(Schedule)).all() == []

    # The form kept the settings: saving them now makes the schedule.
    page.get_by_role("button", name="Save schedule").click()
    page.get_by_text("Saved the schedule for every team").wait_for()
    session.expire_all()
    [schedule] = session.exec(select(Schedule)).all()
    assert (schedule.cadence_kind, schedule.nth, schedule.weekday) == ("quarterly", -1, 3)
    assert_axe_clean(page, axe_violations)

    page.get_by_label("Every few weeks, from the start date").check()
    page.get_by_label("Every how many weeks").fill("1")
    _fill_date(page, "start_date", "1", "12", "2026")
    page.get_by_role("button", name="Check the burden").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "once every 21 days" in summary.inner_text()
    screenshot(page, "admin-schedules-error")
    assert_axe_clean(page, axe_violations)


@pytest.mark.page_only
def test_the_schedules_page_has_nothing_wider_than_a_phone(admin_page, live_server, new_page,
                                                          make_team, axe_violations):
    make_team(slug="district-nursing", size=0)
    page = admin_page
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto(live_server + "/admin/schedules")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert_axe_clean(page, axe_violations)


@pytest.mark.page_only
def test_the_roster_page_lists_problems_accessibly(admin_page, live_server, make_team, session,
                                                   axe_violations, screenshot, tmp_path):
    make_team(slug="district-nursing", size=0)
    page = admin_page
    page.goto(live_server + "/admin/roster")
    assert_axe_clean(page, axe_violations)

    bad = tmp_path / "roster.csv"
    bad.write_text(BAD_ROSTER)
    page.get_by_label("Roster file (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and import").click()
    table = page.locator("#problems")
    table.wait_for()
    assert "not-an-email" in table.inner_text() and "podiatry" in table.inner_text()
    assert "2 problems in the file" in page.locator(".nhsuk-error-summary").inner_text()
    screenshot(page, "admin-roster-errors")
    assert_axe_clean(page, axe_violations)
    session.expire_all()
    assert session.exec(select(StaffMember)).all() == []


@pytest.mark.page_only
def test_the_outbox_and_messages_pages_pass_axe(admin_page, live_server, open_wave, session,
                                                axe_violations, screenshot):
    wave = open_wave(size=3)
    now = utcnow()
    states = [("sent", "outbox", None), ("failed", "email", "550 Mailbox unavailable"),
              ("unknown", "sms", "The scheduler stopped while sending this")]
    for n, (member, (status, channel, reason)) in enumerate(zip(wave.tokens, states,
                                                               strict=True)):
        session.add(Message(
            wave_id=wave.wave_id, staff_member_id=member, kind="invitation", channel=channel,
            address=f"person{n}@example.test", status=status, attempts=1, due_at=now,
            subject="Your team pulse is open", failure_reason=reason,
            body_text=f"Hello, answer here: http://pulse.test{wave.url(member)}"
            if channel == "outbox" else None,
            created_at=now - timedelta(minutes=n)))
    session.commit()
    page = admin_page

    page.goto(live_server + "/admin/outbox")
    assert "http://pulse.test/p/" in page.locator(".pulse-message").inner_text()
    screenshot(page, "admin-outbox")
    assert_axe_clean(page, axe_violations)

    page.get_by_role("link", name="Messages that need attention").click()
    page.wait_for_url("**/admin/messages")
    rows = page.locator("table").nth(1).locator("tbody tr")
    assert rows.count() == 2
    screenshot(page, "admin-messages")
    assert_axe_clean(page, axe_violations)
