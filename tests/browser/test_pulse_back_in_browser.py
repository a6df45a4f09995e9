"""Back after answering the pulse, in a real browser: never a resubmission, always the
"already answered" page, and one response stored."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from survey_app.models import Response

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_back_after_correcting_and_sending_says_already_answered(
        live_server, new_page, open_wave, session, axe_violations, screenshot, width, height):
    url = live_server + open_wave().urls[0]
    page = new_page(width, height)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url)
            if request.method == "POST" else None)

    page.goto(url)
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "Answer at least one question" in summary.inner_text()
    # The errors are a page fetched by GET (after a 303), not the answer to the post.
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
    assert axe_violations(page) == []
    screenshot(page, f"pulse-back-error-{width}")

    page.get_by_role("group", name="place to work").get_by_label("Likely", exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/thank-you/**")
    assert len(posts) == 2

    back = page.go_back()
    assert back is not None and back.request.method == "GET" and back.status == 410
    assert page.url == url
    assert page.get_by_role("heading", name="You have already answered this pulse").is_visible()
    assert dialogs == [] and len(posts) == 2  # nothing was sent again
    assert axe_violations(page) == []
    screenshot(page, f"pulse-back-already-answered-{width}")
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Response)).one() == 1
