"""Fixtures for the retention tests: the demo INT, a signed-in admin, a purge at a fixed
clock, and the reports' downloads read back as text."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from survey_app import demo
from survey_app.core.clock import as_utc
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import SQLModel, Team, Wave
from survey_app.retention import purge
from tests.conftest import IN_CI

TEAM = "district-nursing"
AUDIT_DAYS = 730


@pytest.fixture
def admin(client, login, riverside):
    """The demo loaded and its admin (who may read every report and the FHIR export)."""
    assert login(client, f"admin@{demo.EMAIL_DOMAIN}", DEMO_PASSWORD).status_code == 302
    return client


@pytest.fixture
def run_purge(session: Session) -> Callable[..., purge.PurgeReport]:
    """Purge as the daily job would at ``now`` (a fixed clock), then forget cached rows."""

    def run(now: datetime, **kwargs: Any) -> purge.PurgeReport:
        report = purge.purge(session, now=now, audit_days=kwargs.pop("audit_days", AUDIT_DAYS),
                             **kwargs)
        session.expire_all()
        return report

    return run


def count(session: Session, table: type[SQLModel], *where: Any) -> int:
    return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


def closed_waves(session: Session, team_slug: str = TEAM) -> list[Wave]:
    """The team's closed waves, oldest close first."""
    return list(session.exec(
        select(Wave).join(Team, col(Team.id) == col(Wave.team_id))
        .where(Team.slug == team_slug, col(Wave.closed_at).is_not(None))
        .order_by(col(Wave.closed_at))))


def closed(wave: Wave) -> datetime:
    assert wave.closed_at is not None
    return as_utc(wave.closed_at)


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = shutil.which("pdftotext")
    if path is None:
        if IN_CI:
            pytest.fail("pdftotext is required under CI (make test installs poppler-utils)")
        pytest.skip("pdftotext not installed: `make test` installs poppler-utils")
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([path, str(source), "-"], check=True, capture_output=True,
                            timeout=60)
    return " ".join(result.stdout.decode().split())
