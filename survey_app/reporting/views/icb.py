"""Report pages: the ICB view, every INT side by side, for admins (with its CSV).

The figures come from :func:`survey_app.reporting.icb_report.icb_overview`.
Werkzeug matches these static rules before ``/reports/<int_slug>``, so an INT
slugged "icb" could not be reached; slugs are chosen by admins, who are told so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app

from survey_app.accounts.access import role_required
from survey_app.core.db import get_session
from survey_app.core.extensions import team_pulse
from survey_app.reporting.exports import SuppressedCell, table_with_reasons
from survey_app.reporting.icb_report import IntSummary, icb_overview
from survey_app.reporting.views import audit_view, bp, csv_download, page_action, render_report
from survey_app.reporting.views.overview import (
    interval_cells,
    interval_words,
    percent,
    percent_value,
)


def _summaries() -> tuple[list[IntSummary], int]:
    threshold = int(current_app.config["PULSE_SUPPRESSION_THRESHOLD"])
    instrument = team_pulse()
    return icb_overview(get_session(), instrument=instrument, threshold=threshold), threshold


@bp.route("/icb")
@role_required("admin")
def icb() -> Any:
    summaries, threshold = _summaries()
    audit_view(page_action(), "icb")
    get_session().commit()
    return render_report("reports/icb.html", filename="icb", summaries=summaries,
                         threshold=threshold, percent=percent, interval_words=interval_words)


CSV_COLUMNS = (
    "INT", "Teams", "Teams shown", "Answers", "Invited", "Response rate %",
    "% recommend as a place to work", "Place to work 95% CI lower %",
    "Place to work 95% CI upper %", "% recommend for care", "Care 95% CI lower %",
    "Care 95% CI upper %", "Engagement (0-10)", "Teams fatigued", "Teams to watch",
    "Teams with special cause improvement", "Teams with special cause concern",
)
HIDEABLE = CSV_COLUMNS[2:]


def csv_rows(summaries: Sequence[IntSummary]) -> list[list[object]]:
    """The ICB table as CSV values: hidden cells as :class:`SuppressedCell`."""
    out: list[list[object]] = []
    for row in summaries:
        name = row.neighbourhood.name
        if row.hidden_reason is not None:
            out.append([name, row.teams, *([SuppressedCell(row.hidden_reason)] * len(HIDEABLE))])
            continue
        out.append([
            name, row.teams, row.teams_shown, row.responded, row.invited,
            percent_value(row.response_rate),
            *interval_cells(row.recommend_work, row.work_hidden_reason),
            *interval_cells(row.recommend_care, row.care_hidden_reason),
            None if row.engagement is None else round(row.engagement, 1),
            row.fatigued, row.watch, row.improvement, row.concern,
        ])
    return out


@bp.route("/icb.csv")
@role_required("admin")
def icb_csv() -> Any:
    summaries, _ = _summaries()
    header, values = table_with_reasons(CSV_COLUMNS, csv_rows(summaries), hideable=HIDEABLE)
    audit_view("report.csv", "icb", file="icb")
    get_session().commit()
    return csv_download("icb", header, values)
