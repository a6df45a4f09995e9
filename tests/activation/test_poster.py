"""The QR poster: the site's page, printed, is one A4 sheet whose code scans to its address.

The print view is the poster page itself under ``@media print`` (poster.css). It is
rendered here by the reports' WeasyPrint renderer (static files only, no network), read
back with poppler's pdfinfo, pdftotext and pdftoppm, and the code is decoded with zbar's
zbarimg. Under CI a missing tool fails the test; elsewhere it skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from survey_app.models import Neighbourhood
from survey_app.reporting.views.pdf import render_pdf
from tests.conftest import IN_CI

PACKAGES = {"pdfinfo": "poppler-utils", "pdftotext": "poppler-utils",
            "pdftoppm": "poppler-utils", "zbarimg": "zbar-tools"}
QUESTION = "How good are you at taking care of your health?"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        package = PACKAGES[name]
        if IN_CI:
            pytest.fail(f"{name} is required under CI (make test installs {package})")
        pytest.skip(f"{name} not installed: `make test` installs {package}")
    return path


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, timeout=60).stdout.decode()


def _address(html: str) -> str:
    match = re.search(r'<p class="pulse-poster__address[^"]*">(.*?)</p>', html, re.S)
    assert match is not None
    return re.sub(r"<[^>]+>", "", match.group(1))


@pytest.fixture
def poster_page(client, make_site, make_user, login):
    make_site("RMP")
    make_user("recorder", sites=("RMP",))
    login(client, "recorder@example.test")
    response = client.get("/sites/RMP/poster")
    assert response.status_code == 200
    return response.data.decode()


def test_the_poster_names_the_site_and_int_and_asks_the_instruments_question(poster_page):
    text = " ".join(re.sub(r"<[^>]+>", " ", poster_page).split())
    assert "Site RMP" in text and "test-int INT" in text
    assert f"<h1 class=\"pulse-poster__question\">{QUESTION}</h1>" in poster_page
    assert "Takes 10 seconds. Anonymous." in text
    assert _address(poster_page) == "http://pulse.test/q/RMP"
    assert "css/poster.css" in poster_page


@pytest.mark.parametrize("app_config", [{"PULSE_BASE_URL": "https://pulse.example.nhs.uk"}])
def test_the_address_to_type_leaves_out_https(poster_page):
    assert _address(poster_page) == "pulse.example.nhs.uk/q/RMP"
    # Printed, it may wrap after a "." or "/" only: each piece between them is kept whole.
    address = re.search(r'<p class="pulse-poster__address.*?</p>', poster_page, re.S)
    assert address is not None
    assert re.findall(r"<span>([^<]*)</span>", address.group(0)) == [
        "pulse.", "example.", "nhs.", "uk/", "q/", "RMP"]
    assert "QR code for https://pulse.example.nhs.uk/q/RMP" in poster_page


LONG_BASE_URL = "https://patient-pulse.riverside-integrated-neighbourhood.nhs.uk"
LONG_SITE = "St Bartholomew's and Riverside Community Health and Wellbeing Centre"
LONG_INT = "North Riverside and Eastfield Integrated Neighbourhood Team"


@pytest.mark.parametrize(("app_config", "names"), [
    ({}, None),
    ({"PULSE_BASE_URL": LONG_BASE_URL}, (LONG_SITE, LONG_INT)),
], ids=["short", "long-names"])
def test_the_printed_poster_is_one_a4_page_whose_code_scans_to_the_address(
        app, client, session, make_site, make_user, login, names, tmp_path: Path):
    pdfinfo, pdftotext, pdftoppm, zbarimg = (
        _tool(name) for name in ("pdfinfo", "pdftotext", "pdftoppm", "zbarimg"))
    site = make_site("RMP")
    if names:
        site.name = names[0]
        session.get(Neighbourhood, site.neighbourhood_id).name = names[1]
        session.add(site)
        session.commit()
    make_user("recorder", sites=("RMP",))
    login(client, "recorder@example.test")
    address = f"{app.config['PULSE_BASE_URL']}/q/RMP"
    # The page's own HTML printed (media print), as the browser's Print would.
    with app.test_request_context("/sites/RMP/poster"):
        pdf = render_pdf(client.get("/sites/RMP/poster").data.decode())
    source = tmp_path / "poster.pdf"
    source.write_bytes(pdf)

    info = _run(pdfinfo, str(source))
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert size is not None, info
    assert (round(float(size.group(1))), round(float(size.group(2)))) == (595, 842)

    text = " ".join(_run(pdftotext, str(source), "-").split())
    site_name, int_name = names or ("Site RMP", "test-int INT")
    for words in (site_name, int_name, QUESTION, "Takes 10 seconds. Anonymous."):
        assert words in text
    # The address, large enough to read across a room, may wrap at the page edge.
    assert address.removeprefix("https://") in text.replace(" ", "")
    # Only the poster prints: no header, account bar, footer, link back or report header.
    for hidden in ("Skip to main content", "Back to posters", "Sign out", "Printed", "Page 1"):
        assert hidden not in text

    _run(pdftoppm, "-r", "150", "-png", str(source), str(tmp_path / "poster"))
    [png] = sorted(tmp_path.glob("poster*.png"))
    decoded = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True,
                             timeout=60)
    assert decoded.returncode == 0, decoded.stderr
    assert decoded.stdout.decode().splitlines() == [address]


def test_the_poster_says_where_to_read_how_the_answer_is_used(poster_page):
    text = " ".join(re.sub(r"<[^>]+>", " ", poster_page).split())
    assert "How your answer is used: http://pulse.test/privacy/patients" in text
