"""The INT overview and the ICB view fit the screen (issue 13, point 7).

Signed in on the Riverside demo, at 1280x800 and 1024x768 no table cell's content
is wider than its cell, no table wider than its container and the page never
scrolls sideways; at 800x600 and 360x640 each row is a card, its cells stacked one
below another. axe-core (WCAG 2.2 AA) on each, with a screenshot at each width.
"""

from __future__ import annotations

from typing import Any

import pytest

from survey_app import demo
from survey_app.demo.patients import DEMO_PASSWORD
from tests.browser.pages import assert_axe_clean, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.page_only]

LEAD = f"lead@{demo.EMAIL_DOMAIN}"
ADMIN = f"admin@{demo.EMAIL_DOMAIN}"
WIDE = [(1280, 800), (1024, 768)]
PHONE = (360, 640)
CARDS = [(800, 600), PHONE]  # below 1024px each row is a card, on a tablet too

# Every element of the table whose content overflows its own box, or whose box pokes
# out of its parent's (1px of slack for sub-pixel rounding); and the page's own width.
OVERFLOWS = """table => {
  const found = [];
  const cells = table.querySelectorAll('caption, th, td, th *, td *');
  for (const element of [table, ...cells]) {
    const style = getComputedStyle(element);
    // An SVG is measured whole; its title, shapes and text are its own business.
    // Visually hidden text is a 1px box by design.
    if (element.ownerSVGElement || style.display === 'none'
        || element.closest('.nhsuk-u-visually-hidden')
        || element.closest('details:not([open]) > div')) continue;
    const box = element.getBoundingClientRect();
    const parent = element.parentElement.getBoundingClientRect();
    const clipped = element.scrollWidth > element.clientWidth + 1 && style.display !== 'inline';
    const outside = box.right > parent.right + 1 || box.left < parent.left - 1;
    if (clipped || outside) {
      const name = element.className.baseVal ?? element.className;
      found.push(`${element.tagName.toLowerCase()}.${name}`
                 + ` "${(element.textContent || '').trim().slice(0, 40)}"`
                 + ` ${Math.round(box.left)}-${Math.round(box.right)} in`
                 + ` ${Math.round(parent.left)}-${Math.round(parent.right)}`);
    }
  }
  return found;
}"""

# Each body row's cells (header cell included) as [top, bottom, left, right] boxes.
ROW_BOXES = """table => [...table.tBodies[0].rows].map(row => [...row.cells].map(cell => {
  const box = cell.getBoundingClientRect();
  return [box.top, box.bottom, box.left, box.right];
}))"""


def _assert_fits(page: Any, width: int) -> None:
    """No sideways scroll anywhere: not the page, not the table, not a cell."""
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"{page.url} is {page_width}px wide at {width}px"
    table = page.locator("table.pulse-overview-table")
    assert table.count() == 1
    assert table.evaluate(OVERFLOWS) == []
    # The table ends inside the page's content column.
    main = page.locator("main").bounding_box()
    box = table.bounding_box()
    assert box["x"] >= main["x"] - 1 and box["x"] + box["width"] <= main["x"] + main["width"] + 1


def _assert_cards(page: Any) -> None:
    """Every row's cells stack: each cell starts below the last, at the card's full width."""
    rows = page.locator("table.pulse-overview-table").evaluate(ROW_BOXES)
    assert rows
    for cells in rows:
        assert len(cells) >= 2
        for above, below in zip(cells, cells[1:], strict=False):
            assert below[0] >= above[1] - 1, f"cells side by side: {above} then {below}"
            assert abs(below[2] - above[2]) <= 1 and abs(below[3] - above[3]) <= 1
    # Each card names its cells' columns, since the header row is not shown.
    label = page.locator("table.pulse-overview-table tbody td").first.evaluate(
        "cell => getComputedStyle(cell, '::before').content")
    assert label not in ("none", "normal", '""')
    assert page.locator("table.pulse-overview-table thead").evaluate(
        "head => head.getBoundingClientRect().height") <= 1


def _walk(page_path: str, email: str, name: str, riverside: Any, live_server: str,
          new_page: Any, axe_violations: Any, screenshot: Any) -> None:
    for width, height in WIDE:
        page = new_page(width, height)
        sign_in(page, live_server, email, password=DEMO_PASSWORD)
        page.goto(live_server + page_path)
        _assert_fits(page, width)
        assert_axe_clean(page, axe_violations)
        screenshot(page, f"{name}-{width}")
    for width, height in CARDS:
        page = new_page(width, height)
        sign_in(page, live_server, email, password=DEMO_PASSWORD)
        page.goto(live_server + page_path)
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= width, f"{page_path} is {page_width}px wide at {width}px"
        _assert_cards(page)
        assert_axe_clean(page, axe_violations)
        screenshot(page, f"{name}-{width}")


def test_the_overview_fits_every_screen(riverside, live_server, new_page, axe_violations,
                                        screenshot):
    _walk(f"/reports/{demo.INT_SLUG}", LEAD, "test_the_overview_fits_every_screen",
          riverside, live_server, new_page, axe_violations, screenshot)


def test_the_reports_index_fits_every_screen(riverside, live_server, new_page,
                                            axe_violations, screenshot):
    for width, height in [*WIDE, PHONE]:
        page = new_page(width, height)
        sign_in(page, live_server, ADMIN, password=DEMO_PASSWORD)
        page.goto(live_server + "/reports/")
        assert page.get_by_role("link", name="Every INT side by side").count() == 1
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= width, f"the reports index is {page_width}px wide at {width}px"
        assert_axe_clean(page, axe_violations)
        screenshot(page, f"test_the_reports_index_fits_every_screen-{width}")


def test_the_icb_view_fits_every_screen(riverside, live_server, new_page, axe_violations,
                                        screenshot):
    _walk("/reports/icb", ADMIN, "test_the_icb_view_fits_every_screen",
          riverside, live_server, new_page, axe_violations, screenshot)
