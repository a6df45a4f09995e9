"""After a pseudonym key change, the activation report says how many ratings lost their link.

The demo's pseudonymised ratings are under the suite's key (labelled k1 by
default); a key change to a new key that ends before any demo patient is seen
again leaves all of them unlinked. axe-core (WCAG 2.2 AA) at each width, and a
screenshot.
"""

from __future__ import annotations

import pytest
from sqlmodel import col, func, select

from survey_app import demo
from survey_app.activation.pseudonyms import PseudonymKey, PseudonymKeys, end_transition
from survey_app.core.clock import local_date, utcnow
from survey_app.core.dates import long_date
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import ActivationRating
from tests.browser.pages import assert_axe_clean, sign_in
from tests.conftest import PSEUDONYM_KEY

pytestmark = pytest.mark.browser

SIZES = [(360, 640), (1280, 800)]
LEAD = f"lead@{demo.EMAIL_DOMAIN}"


@pytest.fixture
def key_changed(session, riverside) -> int:
    """End a key change in the demo INT; the number of ratings it unlinked."""
    linked = session.exec(select(func.count()).select_from(ActivationRating).where(
        col(ActivationRating.patient_pseudonym).is_not(None))).one()
    keys = PseudonymKeys(PseudonymKey("k2", b"new-synthetic-pseudonym-key-9876543210"),
                         PseudonymKey("k1", PSEUDONYM_KEY))
    ended = end_transition(session, keys=keys, now=utcnow())
    session.commit()
    assert linked > 0 and ended.cleared == linked
    return int(linked)


@pytest.mark.parametrize("width, height", SIZES)
def test_the_activation_report_says_how_many_earlier_ratings_lost_their_link(
        key_changed, live_server, new_page, axe_violations, screenshot, width, height):
    page = new_page(width, height)
    sign_in(page, live_server, LEAD, password=DEMO_PASSWORD)
    page.goto(live_server + f"/reports/{demo.INT_SLUG}/activation")
    sentence = page.get_by_text("could no longer be linked after the pseudonym key")
    assert sentence.is_visible()
    assert sentence.inner_text() == (
        f"{key_changed} earlier ratings could no longer be linked after the pseudonym key "
        f"was changed on {long_date(local_date(utcnow()))}. They still count in every "
        "table above, but not in paired change.")
    assert_axe_clean(page, axe_violations)
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    screenshot(page, f"activation-pseudonym-key-changed-{width}")
