"""Who is asking, in a real browser: the demo INT's name and logo at the top and its
contact at the bottom of a staff pulse page, a kiosk and a QR poster, on a phone
(360 x 640) and a desktop (1280 x 800), axe-clean, with screenshots in test-artifacts/."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from sqlmodel import select

from survey_app import demo
from survey_app.core.clock import utcnow
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import Neighbourhood, Site
from survey_app.pulse import waves
from tests.browser.pages import sign_in
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser

SIZES = [(360, 640), (1280, 800)]
SIZE_IDS = ["phone", "desktop"]
DISPLAY = f"{demo.INT_NAME}, part of NHS North Example ICB"
LOGO_HEIGHT = 40  # CSS px: the 80 px logo, sharp at 2x


def _assert_header_names_the_int(page: Any, width: int) -> None:
    header = page.locator("header.nhsuk-header")
    assert header.locator(".nhsuk-header__service-name").inner_text() == DISPLAY
    logo = header.locator("img.pulse-brand__logo")
    # Loaded (not a broken image), 40 px tall, and inside the screen.
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 240
    box = logo.bounding_box()
    assert round(box["height"]) == LOGO_HEIGHT + 8, box  # 4 px of white round it
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _assert_footer_gives_the_contact(page: Any) -> None:
    footer = page.locator("footer.nhsuk-footer")
    assert footer.get_by_role("heading", name=f"Questions? Contact {DISPLAY}").is_visible()
    email = footer.get_by_role("link", name=f"int.office@{demo.EMAIL_DOMAIN}")
    assert email.get_attribute("href") == f"mailto:int.office@{demo.EMAIL_DOMAIN}"
    assert footer.get_by_role("link", name="0113 496 0123").get_attribute(
        "href") == "tel:01134960123"
    for link in footer.get_by_role("link").all():
        assert link.bounding_box()["height"] >= 44


@pytest.fixture
def pulse_url(session, riverside) -> str:
    wave_id = demo.open_wave_id(session, now=utcnow())
    assert wave_id is not None
    [link] = waves.reissue_links(session, wave_id=wave_id, count=1)
    session.commit()
    return f"/p/{link.token}"


@pytest.mark.page_only
@pytest.mark.parametrize(("width", "height"), SIZES, ids=SIZE_IDS)
def test_the_staff_pulse_page_says_who_is_asking(live_server, new_page, pulse_url, width,
                                                 height, axe_violations, screenshot):
    page = new_page(width, height)
    page.goto(live_server + pulse_url)
    _assert_header_names_the_int(page, width)
    _assert_footer_gives_the_contact(page)
    assert axe_violations(page) == []
    screenshot(page, f"branding-pulse-{width}")


@pytest.mark.parametrize(("width", "height"), SIZES, ids=SIZE_IDS)
def test_the_kiosk_says_who_is_asking_and_still_fits_a_screen(
        live_server, new_page, session, riverside, width, height, axe_violations, screenshot):
    site = session.exec(select(Site).where(Site.neighbourhood_id == riverside.id)
                        .order_by(Site.code)).first()
    page = new_page(width, height)
    sign_in(page, live_server, f"admin@{demo.EMAIL_DOMAIN}", password=DEMO_PASSWORD)
    page.goto(live_server + "/kiosk/enrol")
    page.get_by_label("Site").select_option(site.code)
    page.get_by_label("Name for this tablet").fill("Reception tablet")
    page.get_by_role("button", name="Enrol and start").click()
    page.wait_for_url(live_server + "/kiosk")
    _assert_header_names_the_int(page, width)
    contact = page.locator(".pulse-kiosk-contact")
    assert contact.inner_text().startswith("Questions? Contact Riverside")
    if width > 1000:
        # Full screen on a tablet-sized screen, name and contact included: no scrolling.
        assert contact.is_visible() and contact.bounding_box()["y"] < height
        assert page.evaluate("document.documentElement.scrollHeight") <= height
    assert axe_violations(page) == []
    screenshot(page, f"branding-kiosk-{width}")


def _pages(pdf: bytes, tmp_path: Any) -> int:
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        if IN_CI:
            pytest.fail("pdfinfo is required under CI (make test installs poppler-utils)")
        pytest.skip("pdfinfo not installed: `make test` installs poppler-utils")
    source = tmp_path / "poster.pdf"
    source.write_bytes(pdf)
    info = subprocess.run([pdfinfo, str(source)], check=True, capture_output=True,
                          timeout=60).stdout.decode()
    return int(next(line.split()[-1] for line in info.splitlines()
                    if line.startswith("Pages:")))


@pytest.mark.page_only
@pytest.mark.parametrize(("width", "height"), SIZES, ids=SIZE_IDS)
def test_the_poster_says_who_is_asking_on_screen_and_on_paper(
        live_server, new_page, session, riverside, width, height, axe_violations, screenshot,
        tmp_path):
    site = session.exec(select(Site).where(Site.neighbourhood_id == riverside.id)
                        .order_by(Site.code)).first()
    page = new_page(width, height)
    sign_in(page, live_server, f"lead@{demo.EMAIL_DOMAIN}", password=DEMO_PASSWORD)
    page.goto(live_server + f"/sites/{site.code}/poster")
    _assert_header_names_the_int(page, width)
    sheet = page.locator(".pulse-poster__from")
    assert sheet.locator(".pulse-poster__int").inner_text() == DISPLAY
    assert sheet.locator("img.pulse-poster__logo").evaluate("img => img.naturalWidth") == 240
    _assert_footer_gives_the_contact(page)
    assert axe_violations(page) == []
    screenshot(page, f"branding-poster-{width}")

    # Printed, the header and footer are not: the sheet itself names the INT, with its
    # logo, and is still one sheet of A4.
    page.emulate_media(media="print")
    assert page.locator("header.nhsuk-header").is_hidden()
    assert sheet.locator("img.pulse-poster__logo").is_visible()
    assert _pages(page.pdf(format="A4", print_background=True), tmp_path) == 1


def test_the_demo_int_is_set_up_to_say_who_is_asking(session, riverside: Neighbourhood):
    # What the walks above rely on: the demo INT's synthetic name, contact and logo.
    assert riverside.public_name == DISPLAY
    assert (riverside.logo_width, riverside.logo_height) == (240, 80)
    assert riverside.contact_phone == "0113 496 0123"
