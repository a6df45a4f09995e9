"""Report pages: the list of INTs and an INT's overview, one row per team, with its CSV.

The figures come from :func:`survey_app.reporting.overview.int_overview`; this
module only words and draws them (routes registered on survey_app.reporting.views.bp).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_login import current_user
from markupsafe import Markup

from analysis.proportions import ProportionInterval
from survey_app.accounts.access import role_required
from survey_app.core.clock import LONDON, utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import team_pulse
from survey_app.models import Neighbourhood
from survey_app.reporting.charts import (
    assurance_icon_svg,
    assurance_words,
    variation_icon_svg,
    variation_words,
)
from survey_app.reporting.charts.icons import MDC_NO_TARGET, MDC_VARIATION
from survey_app.reporting.exports import SuppressedCell, table_with_reasons
from survey_app.reporting.overview import (
    FATIGUE_INDICATOR_NAMES,
    OpenWaveProgress,
    TeamOverview,
    int_overview,
    p_value_words,
    plain_reason,
)
from survey_app.reporting.views import (
    audit_view,
    bp,
    csv_download,
    int_report,
    page_action,
    render_report,
    visible_neighbourhoods,
)
from survey_app.reporting.vocabulary import NO_CLOSED_PULSE

IMPROVEMENT = "increase"  # more staff recommending the team is better
FATIGUE_TAGS = {"none": "nhsuk-tag--green", "watch": "nhsuk-tag--yellow",
                "fatigued": "nhsuk-tag--red"}
FATIGUE_LABELS = {"none": "No sign of fatigue", "watch": "Watch", "fatigued": "Fatigued"}


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def interval_words(interval: ProportionInterval) -> str:
    """How the page writes a 95% Wilson interval: "52% to 75%"."""
    return f"{percent(interval.lower)} to {percent(interval.upper)}"


def open_words(wave: OpenWaveProgress) -> str:
    """An open wave's response so far, and nothing else: its results wait for the close."""
    local = wave.closes_at.astimezone(LONDON)
    closes = f"{local.day} {local:%B}"
    state = "closing" if wave.closes_at <= utcnow() else f"open until {closes}"
    return f"{state}: {wave.responded} of {wave.invited} answered so far"


# The agreed plain words for trial limits (issue 13); "trial limits" only in details.
PROVISIONAL_LIMITS = ("Provisional limits: fewer than 13 pulses since the chart "
                      "started afresh")


@dataclass(frozen=True)
class OverviewRow:
    """One team's row, worded for the page and the CSV (None where nothing to say).

    ``fatigue_reasons`` are the plain sentences; their tests, and the Making Data
    Count terms behind the icons, are in ``statistics`` (the row's details).
    """

    team: TeamOverview
    variation_svg: Markup | None
    variation_label: str | None
    assurance_svg: Markup | None
    assurance_label: str | None
    open_waves: tuple[str, ...]
    provisional_limits: bool = False
    fatigue_reasons: tuple[str, ...] = ()
    statistics: tuple[str, ...] = ()


def row_statistics(team: TeamOverview, variation: str | None,
                   charted: bool) -> tuple[str, ...]:
    """What the row's details say: the MDC terms, then each trend test's p-value."""
    found: list[str] = []
    if variation:
        found.append(f"Making Data Count: {MDC_VARIATION[variation]}.")
    if charted:
        assurance = (MDC_NO_TARGET if team.assurance is None
                     else assurance_words(team.assurance)[1])
        found.append(f"{assurance}.")
    if team.work_chart is not None and team.work_chart.trial_limits:
        found.append("The limits are trial limits (fewer than 13 points since the chart "
                     "began or was last rebased).")
    if team.response_trend is not None and team.response_trend.statistics:
        found.append(f"Response rate: {team.response_trend.statistics}.")
    for trend in team.fatigue.trends if team.fatigue else ():
        if trend.worsening and trend.name != "response_rate":
            found.append(f"{FATIGUE_INDICATOR_NAMES.get(trend.name, trend.name)}: "
                         f"{p_value_words(trend.p_value)}.")
    return tuple(found)


def _row(team: TeamOverview) -> OverviewRow:
    charted = team.hidden_reason is None and team.work_chart is not None
    # The latest wave may be a gap in the chart (too few answers): no variation then.
    variation = team.variation if charted else None
    # Both icons are drawn by charts/icons.py from fixed vocabulary, every text escaped by
    # charts/_svg.py: nothing a user typed reaches this markup.
    variation_svg = Markup(variation_icon_svg(variation, IMPROVEMENT)) if variation else None  # nosec B704
    assurance_svg = Markup(assurance_icon_svg(team.assurance)) if charted else None  # nosec B704
    reasons = team.fatigue.reasons if team.fatigue else ()
    return OverviewRow(
        team,
        variation_svg,
        variation_words(variation, IMPROVEMENT)[1] if variation else None,
        assurance_svg,
        assurance_words(team.assurance)[1] if charted else None,
        tuple(open_words(wave) for wave in team.open_waves),
        provisional_limits=bool(charted and team.work_chart and team.work_chart.trial_limits),
        fatigue_reasons=tuple(plain_reason(reason)[0] for reason in reasons),
        statistics=row_statistics(team, variation, charted),
    )


def _overview(neighbourhood: Neighbourhood) -> tuple[list[OverviewRow], int]:
    threshold = int(current_app.config["PULSE_SUPPRESSION_THRESHOLD"])
    teams = int_overview(
        get_session(), neighbourhood=neighbourhood, threshold=threshold, now=utcnow(),
        instrument=team_pulse())
    return [_row(team) for team in teams], threshold


@bp.route("/")
@role_required("lead")
def index() -> Any:
    audit_view(page_action(), "index")
    get_session().commit()
    return render_report("reports/index.html", filename="reports",
                         neighbourhoods=visible_neighbourhoods(),
                         is_admin=current_user.role == "admin")


@bp.route("/<int_slug>")
@int_report
def overview(neighbourhood: Neighbourhood) -> Any:
    rows, threshold = _overview(neighbourhood)
    audit_view(page_action(), f"overview:{neighbourhood.slug}")
    get_session().commit()
    return render_report("reports/overview.html", filename=f"{neighbourhood.slug}-overview",
                         neighbourhood=neighbourhood,
                         rows=rows, threshold=threshold, percent=percent,
                         interval_words=interval_words, fatigue_tags=FATIGUE_TAGS,
                         fatigue_labels=FATIGUE_LABELS,
                         provisional_limits=PROVISIONAL_LIMITS)


CSV_COLUMNS = (
    "Team", "Latest closed pulse", "Answers", "Invited", "Response rate %",
    "Response rate trend", "% recommend as a place to work", "Place to work 95% CI lower %",
    "Place to work 95% CI upper %", "% recommend for care", "Care 95% CI lower %",
    "Care 95% CI upper %", "Engagement (0-10)", "Variation (place to work)", "Assurance",
    "Fatigue", "Fatigue reasons", "Change", "Open pulse",
)
# Every figure may be hidden; the team's name and its open pulse's progress never are.
HIDEABLE = CSV_COLUMNS[1:-1]


def percent_value(value: float | None) -> float | None:
    """A 0-1 proportion as a CSV percentage to one decimal."""
    return None if value is None else round(100 * value, 1)


def interval_cells(interval: ProportionInterval | None, hidden: str | None) -> list[object]:
    """Estimate, lower and upper limit as CSV percentages; all three hidden together."""
    if hidden:
        return [SuppressedCell(hidden)] * 3
    if interval is None:
        return [None] * 3
    return [percent_value(value) for value in (interval.estimate, interval.lower, interval.upper)]


def csv_rows(rows: Sequence[OverviewRow]) -> list[list[object]]:
    """The overview table as CSV values: hidden cells as :class:`SuppressedCell`."""
    out: list[list[object]] = []
    for row in rows:
        team = row.team
        opened = "; ".join(row.open_waves) or None
        latest = team.latest
        if team.hidden_reason is not None or latest is None:
            reason = SuppressedCell(team.hidden_reason or NO_CLOSED_PULSE)
            out.append([team.team.name, *([reason] * len(HIDEABLE)), opened])
            continue
        fatigue = team.fatigue
        out.append([
            team.team.name, latest.label, latest.responded, latest.invited,
            percent_value(team.response_rate),
            team.response_trend.words if team.response_trend else None,
            *interval_cells(team.recommend_work, team.work_hidden_reason),
            *interval_cells(team.recommend_care, team.care_hidden_reason),
            None if team.engagement is None else round(team.engagement, 1),
            row.variation_label, row.assurance_label,
            FATIGUE_LABELS[fatigue.level] if fatigue else None,
            " ".join(fatigue.reasons) if fatigue else None,
            team.change_sentence, opened,
        ])
    return out


@bp.route("/<int_slug>/overview.csv")
@int_report
def overview_csv(neighbourhood: Neighbourhood) -> Any:
    rows, _ = _overview(neighbourhood)
    header, values = table_with_reasons(CSV_COLUMNS, csv_rows(rows), hideable=HIDEABLE)
    audit_view("report.csv", f"overview:{neighbourhood.slug}",
               file=f"{neighbourhood.slug}-overview")
    get_session().commit()
    return csv_download(f"{neighbourhood.slug}-overview", header, values)
