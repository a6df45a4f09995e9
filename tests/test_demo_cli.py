"""The demo's commands on the Riverside demo (issue 13): `demo links` says the earlier links
stopped working, and `wave codes` has cards to print for the staff with no email or phone."""

from __future__ import annotations

import re

from survey_app import demo
from survey_app.core.clock import utcnow

# The three district nurses the demo gives no work email or phone (demo.NO_CONTACT_STAFF),
# in the order the cards come (by name); none has answered the open wave yet.
NO_CONTACT = ["Dina Quinn", "Rory Roberts", "Vik Gill"]
LINK = re.compile(r"http://pulse\.test/p/[A-Za-z0-9_-]{20,}")


def test_demo_links_says_the_links_before_no_longer_open(runner, riverside, client):
    first = runner.invoke(args=["demo", "links", "--count", "2"])
    second = runner.invoke(args=["demo", "links", "--count", "2"])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert second.output.splitlines()[0] == (
        "Issued new links: the links printed before no longer open.")
    earlier, newer = LINK.findall(first.output), LINK.findall(second.output)
    assert len(earlier) == len(newer) == 2
    # What the message says is so: the earlier link is gone, the new one opens.
    assert client.get(earlier[0].removeprefix("http://pulse.test")).status_code == 404
    assert client.get(newer[0].removeprefix("http://pulse.test")).status_code == 200


def test_demo_load_of_a_loaded_demo_also_says_so(runner, riverside):
    result = runner.invoke(args=["demo", "load", "--links", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "The demo INT is already loaded.",
        "Issued new links: the links printed before no longer open."]


def test_wave_codes_prints_cards_for_the_staff_with_no_email_or_mobile(runner, riverside,
                                                                      session):
    wave_id = demo.open_wave_id(session, now=utcnow())
    result = runner.invoke(args=["wave", "codes", str(wave_id)])
    assert result.exit_code == 0, result.output
    assert re.findall(r'<p class="name">For: ([^<]+)</p>', result.output) == NO_CONTACT
    assert len(re.findall(r'<p class="code">[A-Z0-9]{5}-[A-Z0-9]{5}</p>', result.output)) == 3
