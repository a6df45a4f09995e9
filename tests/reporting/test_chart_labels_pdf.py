"""The team report's PDF carries the same chart labels as the page (issue 13, point 8):
axis titles and legends are real text in the PDF (pdftotext reads them), printed once
per chart (the wide drawing only, never the phone copy too)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import Neighbourhood
from tests.conftest import IN_CI


def _pdftotext() -> str:
    path = shutil.which("pdftotext")
    if path is None:
        if IN_CI:
            pytest.fail("pdftotext is required under CI (make test installs poppler-utils)")
        pytest.skip("pdftotext not installed: `make test` installs poppler-utils")
    return path


def _text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "team.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([_pdftotext(), str(source), "-"], check=True,
                            capture_output=True, timeout=60)
    return " ".join(result.stdout.decode().split())


def test_the_team_pdf_prints_every_charts_axis_titles_and_legend_once(
        session, client, login, riverside, tmp_path):
    slug = session.exec(select(Neighbourhood.slug)).one()
    assert login(client, "lead@riverside-int.example", DEMO_PASSWORD).status_code == 302
    response = client.get(f"/reports/{slug}/teams/district-nursing?format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _text(response.data, tmp_path)
    # Each of the three measures: its XmR chart's axis titles, then its response-rate bars'.
    for y_title in ("Would recommend as a place to work (%)",
                    "Would recommend the team's care (%)", "Engagement score (0 to 10)"):
        assert y_title in text
    assert text.count("Response rate (%)") == 3
    # Six time charts, each with its x-axis title once: the phone copy is not printed.
    assert text.count("Pulse (month it opened)") == 6
    assert text.count("Response rate: share of invited staff who answered") == 3
    # The XmR legends, in the agreed plain words.
    assert text.count("Process limits") >= 3 and "No unusual change" in text
    assert "Unusual rise, better" in text
    # The heatmap's axis titles and legend.
    assert "Groups of 3 pulses" in text and "Mean score out of 10" in text
    assert "8 to 10" in text
