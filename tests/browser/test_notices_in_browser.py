"""The privacy notices and the accessibility statement in a real browser: each generic and
per-INT page at phone (360 x 640) and laptop (1280 x 800) size, axe-clean at WCAG 2.2 AA,
usable by keyboard from the skip link on, with screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.page_only]

SIZES = [(360, 640), (1280, 800)]
PAGES = {
    "staff": ("/privacy/staff", "Privacy notice for staff"),
    "patients": ("/privacy/patients", "Privacy notice for patients"),
    "int-staff": ("/ints/riverside/privacy/staff", "Privacy notice for staff: Riverside"),
    "int-patients": ("/ints/riverside/privacy/patients",
                     "Privacy notice for patients: Riverside"),
    "accessibility": ("/accessibility", "Accessibility statement for Pulse"),
    "int-accessibility": ("/ints/riverside/accessibility",
                          "Accessibility statement for Pulse: Riverside"),
}


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["phone", "laptop"])
@pytest.mark.parametrize("name", list(PAGES))
def test_each_notice_reads_at_phone_and_laptop_size_axe_clean(
        live_server, new_page, riverside, name, width, height, axe_violations, screenshot):
    path, heading = PAGES[name]
    page = new_page(width, height)
    page.goto(live_server + path)
    assert page.locator("h1").inner_text().startswith(heading)
    # Nothing wider than the screen: tables of periods wrap rather than scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    screenshot(page, f"notices-{name}-{width}")


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["phone", "laptop"])
def test_the_statement_works_by_keyboard(live_server, new_page, riverside, width, height):
    page = new_page(width, height)
    page.goto(live_server + "/ints/riverside/accessibility")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "nhsuk-skip-link"
    page.keyboard.press("Enter")
    links = page.locator("a[href]").count()
    reached = set()
    for _ in range(links + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return [el.tagName, el.getAttribute('href'),
                  style.outlineStyle !== 'none' || style.boxShadow !== 'none'
                  || style.backgroundColor !== 'rgba(0, 0, 0, 0)'];
        }""")
        if focused[0] == "A":
            assert focused[2], f"no visible focus on {focused[1]}"
            reached.add(focused[1])
    # The footer's notice links are reached by keyboard, after the page's own.
    assert {"/ints/riverside/privacy/staff", "/ints/riverside/privacy/patients",
            "/ints/riverside/accessibility"} <= reached
