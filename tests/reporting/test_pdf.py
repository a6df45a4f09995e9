"""A report page as an A4 PDF: rendered by WeasyPrint, checked with poppler's tools.

A test-only report route (the real ``render_report`` and layout, with a long
table, an SVG chart and resources that must never be fetched) shows the PDF in
detail; the demo's INT overview and team page are then printed the same way.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from flask import render_template_string
from jinja2 import ChoiceLoader, DictLoader
from PIL import Image
from sqlmodel import select

from analysis.spc import xmr
from survey_app.core.clock import LONDON, utcnow
from survey_app.core.db import get_session
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import AuditEvent, Neighbourhood
from survey_app.reporting.charts import xmr_chart_svg
from survey_app.reporting.views import audit_view, page_action, render_report
from survey_app.reporting.views.pdf import FetchRefused, pdf_response, static_only_fetcher
from tests.conftest import IN_CI

A4_RATIO = 297 / 210
ROWS = 70  # enough rows that the table runs onto a second page

REPORT = """{% extends "reports/_layout.html" %}
{% block report_title %}Test INT overview{% endblock %}
{% block breadcrumbs %}<li>Breadcrumb trail</li>{% endblock %}
{% block report %}
<p>Outside resources: <img src="http://example.com/tracker.png" alt="tracker">
<img src="file:///etc/hostname" alt="local file">
<img src="/static/../../../../etc/hostname" alt="escape"></p>
<figure class="pulse-chart">{{ chart | safe }}
<figcaption>Recommend as a place to work, by month</figcaption></figure>
<table class="nhsuk-table">
<caption class="nhsuk-table__caption">Every team</caption>
<thead><tr>
<th scope="col" class="nhsuk-table__header">Team</th>
<th scope="col" class="nhsuk-table__header nhsuk-table__header--numeric">
Recommend as a place to work</th>
</tr></thead>
<tbody>
{% for row in rows %}<tr>
<td>Team number {{ row }}</td>
<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{{ row }}%</td></tr>
{% endfor %}</tbody></table>
<form method="post"><button class="nhsuk-button">A form button that must not print</button></form>
{% endblock %}"""

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
VALUES = [52.0, 55.0, 50.0, 58.0, 54.0, 57.0, 66.0, 70.0, 72.0, 69.0, 74.0, 76.0]


def _chart() -> str:
    return xmr_chart_svg(title="Recommend as a place to work",
                         description="Monthly % recommending the team, with process limits.",
                         labels=[f"{m} 2025" for m in MONTHS], values=VALUES,
                         chart=xmr(VALUES, improvement="increase"), improvement="increase")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI (make test installs poppler-utils)")
        pytest.skip(f"{name} not installed: `make test` installs poppler-utils")
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly on any attempt to resolve or connect: the PDF must not call out."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.fixture
def report_app(app):
    """The app with one extra report route, rendered by the real render_report."""
    app.jinja_env.loader = ChoiceLoader([DictLoader({"test/pdf_report.html": REPORT}),
                                         app.jinja_env.loader])

    def test_report():
        # As every report view does: audit the read, commit, then build the response.
        audit_view(page_action(), "int:test-int")
        get_session().commit()
        return render_report("test/pdf_report.html", filename="test-int overview",
                             chart=_chart(), rows=range(1, ROWS + 1))

    app.add_url_rule("/test-only/report", "test_only_report", test_report)
    return app


@pytest.fixture
def signed_in(report_app, client, make_user, login):
    make_user("admin", email="admin@example.test")
    assert login(client, "admin@example.test").status_code == 302
    return client


def _pages(pdf: bytes, tmp_path: Path) -> list[Path]:
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-r", "50", "-png", str(source), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=60)
    return sorted(tmp_path.glob("page*.png"))


def _page_text(pdf_path: Path, page: int) -> str:
    result = subprocess.run([_tool("pdftotext"), "-f", str(page), "-l", str(page),
                             str(pdf_path), "-"], check=True, capture_output=True, timeout=60)
    return " ".join(result.stdout.decode().split())


def _overflowing_words(pdf_path: Path) -> list[str]:
    """Words that run past the right margin (12 mm) of their page, i.e. got cut off."""
    result = subprocess.run([_tool("pdftotext"), "-bbox", str(pdf_path), "-"], check=True,
                            capture_output=True, timeout=60).stdout.decode()
    margin = 12 / 25.4 * 72
    outside = []
    for page in re.finditer(r'<page width="([\d.]+)".*?</page>', result, re.S):
        right = float(page.group(1)) - margin + 1.0
        outside += [word for x_max, word in
                    re.findall(r'<word [^>]*xMax="([\d.]+)"[^>]*>([^<]*)</word>', page.group(0))
                    if float(x_max) > right]
    return outside


def test_the_report_downloads_as_an_a4_pdf(signed_in, session, tmp_path, no_network, caplog):
    caplog.set_level(logging.WARNING, logger="survey_app.reporting.views.pdf")
    response = signed_in.get("/test-only/report?format=pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="test-int-overview.pdf"')
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF-")
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "report.pdf")).all()
    assert event.target == "int:test-int"

    pages = _pages(response.data, tmp_path)
    assert len(pages) >= 2  # the long table runs on
    for png in pages:
        with Image.open(png) as image:
            width, height = image.size
            assert abs(height / width - A4_RATIO) / A4_RATIO < 0.02
            grey = image.convert("L")
            inked = sum(count for level, count in enumerate(grey.histogram()) if level < 200)
        assert inked > 0.002 * width * height, f"{png.name} is blank"

    info = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", str(len(pages)),
                           str(tmp_path / "report.pdf")],
                          check=True, capture_output=True, timeout=60).stdout.decode()
    sizes = [line for line in info.splitlines() if "size:" in line and line.startswith("Page")]
    assert len(sizes) == len(pages) and all("(A4)" in line for line in sizes)

    first = _page_text(tmp_path / "report.pdf", 1)
    second = _page_text(tmp_path / "report.pdf", 2)
    # Every page carries the title, the printed date and its number (running header).
    today = utcnow().astimezone(LONDON)
    assert "Test INT overview" in first and f"Printed {today.day} {today:%B %Y}, " in first
    assert f"Page 1 of {len(pages)}" in first and f"Page 2 of {len(pages)}" in second
    # The table's header row repeats on the page it runs onto.
    assert "Recommend as a place to work" in second
    assert "Team number 1 " in first and f"Team number {ROWS} " in _page_text(
        tmp_path / "report.pdf", len(pages))
    # reports.css was served from the static folder: its print rules hid the navigation,
    # the header, the footer and the form.
    for hidden in ("Breadcrumb trail", "Skip to main content", "light, anonymous measurement",
                   "must not print", "Download PDF"):
        assert hidden not in first

    # Nothing was fetched from outside the static folder, and nothing tried the network.
    assert no_network == []
    refused = " ".join(record.getMessage() for record in caplog.records)
    for url in ("http://example.com/tracker.png", "file:///etc/hostname"):
        assert f"refused to fetch {url}" in refused
    assert "/etc/hostname (only" in refused.replace("file:///etc/hostname", "")
    assert "reports.css" not in refused and "pulse.css" not in refused
    assert _overflowing_words(tmp_path / "report.pdf") == []


def test_the_html_page_links_to_its_pdf_keeping_its_filters(signed_in):
    page = signed_in.get("/test-only/report?site=RMP")
    assert page.status_code == 200
    assert 'href="/test-only/report?site=RMP&amp;format=pdf" download' in page.data.decode()


def test_pdf_response_renders_the_layout_inside_a_request(app, tmp_path):
    with app.test_request_context("/reports/test-int"):
        html = render_template_string(REPORT, pdf=True, chart=_chart(), rows=range(1, 4))
        response = pdf_response(html, filename="short.pdf")
    pages = _pages(response.data, tmp_path)
    assert len(pages) == 1
    text = _page_text(tmp_path / "report.pdf", 1)
    assert "Team number 3" in text and "Every team" in text


def test_the_fetcher_serves_static_files_and_refuses_everything_else(app, no_network):
    with app.test_request_context("/reports/test-int"):
        fetch = static_only_fetcher("http://localhost/")
        served = fetch("http://localhost/static/css/reports.css")
        try:
            body = served["file_obj"].read()
        finally:
            served["file_obj"].close()
        assert body == (Path(app.static_folder) / "css" / "reports.css").read_bytes()
        assert served["mime_type"] == "text/css"
        for url in ("http://example.com/static/css/reports.css",  # another host
                    "https://localhost/static/css/reports.css",  # another scheme
                    "file:///etc/hostname",
                    "http://localhost/static/..%2f..%2fpyproject.toml",  # out of the folder
                    "http://localhost/static/css/missing.css",
                    "http://localhost/reports/test-int"):  # the app, not a static file
            with pytest.raises(FetchRefused):
                fetch(url)
    assert no_network == []


@pytest.fixture
def lead_signed_in(session, client, login, riverside):
    """The demo INT loaded and its lead signed in; returns the INT's slug."""
    slug = session.exec(select(Neighbourhood.slug)).one()
    assert login(client, "lead@riverside-int.example", DEMO_PASSWORD).status_code == 302
    return slug


@pytest.mark.parametrize(("path", "heading"), [
    ("/reports/{int}", "District nursing"),
    ("/reports/{int}/teams/district-nursing", "District nursing"),
])
def test_the_real_reports_print_as_a4_pdfs(lead_signed_in, client, tmp_path, no_network, path,
                                           heading):
    response = client.get(path.format(int=lead_signed_in) + "?format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = _pages(response.data, tmp_path)
    assert pages
    for png in pages:
        with Image.open(png) as image:
            width, height = image.size
            # A4 either way up: the wide overview table prints landscape.
            long_side, short_side = max(width, height), min(width, height)
            assert abs(long_side / short_side - A4_RATIO) / A4_RATIO < 0.02
            inked = sum(count for level, count in enumerate(image.convert("L").histogram())
                        if level < 200)
        assert inked > 0.002 * width * height, f"{png.name} is blank"
    text = " ".join(_page_text(tmp_path / "report.pdf", n) for n in range(1, len(pages) + 1))
    assert heading in text and f"Page {len(pages)} of {len(pages)}" in text
    assert "Download PDF" not in text and "Sign out" not in text
    # Nothing runs off the page: every column of a wide table is on it.
    assert _overflowing_words(tmp_path / "report.pdf") == []
    assert no_network == []
