"""A recorder with several sites, in a real browser: nothing is preselected, the answers
wait for a site, and the chosen site is shown large, with Change, above the answers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from survey_app.models import ActivationRating, Site
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = pytest.mark.browser

ANSWERS = ["1 Not very", "2 Okay", "3 Good", "4 Excellent"]


def _answers(page: Any) -> list[Any]:
    return [page.get_by_role("button", name=name, exact=True) for name in ANSWERS]


def _assert_fits(page: Any, width: int, height: int) -> None:
    scroll_width, scroll_height = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert scroll_width <= width and scroll_height <= height, (scroll_width, scroll_height)


@pytest.mark.parametrize("width, height", [(360, 640), (1280, 800)])
def test_a_recorder_with_several_sites_chooses_then_records_in_two_taps(
        live_server, new_page, make_site, make_user, session, axe_violations, screenshot,
        width, height):
    for code in ("ALD", "HUB", "RMP"):
        make_site(code)
    make_user("recorder", sites=("ALD", "HUB", "RMP"))
    page = new_page(width, height)
    sign_in(page, live_server, "recorder@example.test", landing="**/activation/record")

    # Nothing preselected, and the answers wait for a site.
    site = page.get_by_label("Site")
    assert site.input_value() == ""
    assert site.locator("option:checked").inner_text() == "Choose your site"
    assert page.get_by_text("Choose your site first").is_visible()
    for answer in _answers(page):
        assert answer.is_visible() and answer.is_disabled()
    _assert_fits(page, width, height)
    screenshot(page, f"record-choose-site-{width}x{height}")
    assert_axe_clean(page, axe_violations)

    site.select_option("HUB")
    page.get_by_role("button", name="Use this site").click()
    page.wait_for_load_state()

    # Chosen: shown large, above the answers, with Change; the answers are ready.
    chosen = page.locator("p.nhsuk-heading-m", has_text="Site HUB")
    assert chosen.is_visible()
    size = float(chosen.evaluate("el => getComputedStyle(el).fontSize").removesuffix("px"))
    body = float(page.evaluate("getComputedStyle(document.body).fontSize").removesuffix("px"))
    assert size >= 1.3 * body, (size, body)
    first_answer = _answers(page)[0]
    assert chosen.bounding_box()["y"] < first_answer.bounding_box()["y"]
    change = page.get_by_role("link", name="Change your site")
    assert change.is_visible() and change.bounding_box()["height"] >= 44
    assert page.get_by_text("Choose your site first").count() == 0
    assert all(answer.is_enabled() for answer in _answers(page))
    _assert_fits(page, width, height)
    screenshot(page, f"record-site-chosen-{width}x{height}")
    assert_axe_clean(page, axe_violations)

    # The two taps: the consultation type, then the answer.
    page.get_by_label("Consultation").select_option("nurse")
    page.get_by_role("button", name="3 Good", exact=True).click()
    saved = page.get_by_role("status")
    saved.wait_for()
    assert "Saved: 3 Good" in saved.inner_text()
    assert page.locator("p.nhsuk-heading-m", has_text="Site HUB").is_visible()  # remembered
    screenshot(page, f"record-saved-{width}x{height}")
    assert_axe_clean(page, axe_violations)
    session.expire_all()
    [rating] = session.exec(select(ActivationRating)).all()
    assert (session.get(Site, rating.site_id).code, rating.rating,
            rating.consultation_type) == ("HUB", 3, "nurse")

    # Change offers the choice again; until it is made, the answers wait.
    page.get_by_role("link", name="Change your site").click()
    page.get_by_label("Site").wait_for()
    assert all(answer.is_disabled() for answer in _answers(page))
    assert_axe_clean(page, axe_violations)
