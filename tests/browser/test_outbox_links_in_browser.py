"""The development outbox in a real browser (issue 13): the personal link in a kept message
is a link that opens the pulse; at a phone's width and a desktop's, axe-core clean."""

from __future__ import annotations

import pytest

from survey_app.core.clock import utcnow
from survey_app.models import Message
from tests.browser.pages import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.page_only
@pytest.mark.parametrize("width, height", [(360, 640), (1280, 800)])
def test_the_link_in_an_outbox_message_opens_the_pulse(
        app, live_server, new_page, make_user, open_wave, session, axe_violations, screenshot,
        width, height):
    # The links are made for the server the browser reaches.
    app.config["PULSE_BASE_URL"] = live_server
    wave = open_wave(size=1)
    [member] = wave.tokens
    session.add(Message(wave_id=wave.wave_id, staff_member_id=member, kind="invitation",
                        channel="outbox", address="ada@example.test", status="sent",
                        attempts=1, due_at=utcnow(), subject="Your team pulse is open",
                        body_text=f"Hello Ada, answer here: {live_server}{wave.url(member)}\n"
                                  "Not ours: https://evil.example/p/x <b>bold</b>",
                        created_at=utcnow()))
    session.commit()
    make_user("admin")
    page = new_page(width, height)
    sign_in(page, live_server, "admin@example.test", landing="**/admin/users")

    page.goto(live_server + "/admin/outbox")
    body = page.locator(".pulse-message__body")
    assert [a.get_attribute("href") for a in body.locator("a").all()] == [
        live_server + wave.url(member)]
    assert "Not ours: https://evil.example/p/x <b>bold</b>" in body.inner_text()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"test_outbox_links-{width}")

    body.get_by_role("link").click()
    page.wait_for_url(f"**{wave.url(member)}")
    assert page.locator("form button[type=submit]").count() >= 1
