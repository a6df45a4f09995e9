"""Report pages: one team (routes registered on survey_app.reporting.views.bp).

The page, its two forms (an action for the log, a rebase point for the charts)
and a CSV of each of its tables.  The figures come from
:func:`survey_app.reporting.team_report.team_report`; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user
from wtforms import SelectChoice

from analysis.spc import XmRChart
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import csrf, team_pulse
from survey_app.models import Neighbourhood, Team
from survey_app.reporting import actions, team_report
from survey_app.reporting.actions import ActionError
from survey_app.reporting.charts import (
    Cell,
    ChartEvent,
    XmRTableRow,
    for_every_width,
    heatmap_svg,
    response_rate_svg,
    xmr_chart_svg,
    xmr_table_rows,
)
from survey_app.reporting.exports import SuppressedCell, table_with_reasons
from survey_app.reporting.team_report import WINDOW, Measure, TeamReport
from survey_app.reporting.views import (
    audit_view,
    bp,
    csv_download,
    int_report,
    page_action,
    render_report,
)
from survey_app.reporting.views.forms import ActionForm, RebaseForm
from survey_app.reporting.views.overview import FATIGUE_LABELS, FATIGUE_TAGS

CSV_TABLES = ("measures", "heatmap", "fatigue", "actions")
#: What each chart's y axis measures, with its unit; the x axis is always the pulses.
Y_LABELS = {"recommend_work": "Would recommend as a place to work (%)",
            "recommend_care": "Would recommend the team's care (%)",
            "engagement": "Engagement score (0 to 10)"}
X_LABEL = "Pulse (month it opened)"


@dataclass(frozen=True)
class DrawnMeasure:
    """A measure's chart, the response rates under it, and its data table."""

    measure: Measure
    svg: str | None
    rate_svg: str
    rows: list[XmRTableRow]


def _team_or_404(neighbourhood: Neighbourhood, team_slug: str) -> Team:
    team = team_report.find_team(get_session(), neighbourhood_id=neighbourhood.id or 0,
                                 slug=team_slug)
    if team is None:
        abort(404)
    return team


def _target(neighbourhood: Neighbourhood, team: Team) -> str:
    return f"team:{neighbourhood.slug}/{team.slug}"


def _report(team: Team) -> TeamReport:
    config = current_app.config
    return team_report.team_report(
        get_session(), team=team,
        instrument=team_pulse(),
        threshold=config["PULSE_SUPPRESSION_THRESHOLD"],
        free_text_threshold=config["PULSE_FREE_TEXT_THRESHOLD"], now=utcnow())


def _action_form(neighbourhood: Neighbourhood) -> ActionForm:
    form = ActionForm()
    form.stage.choices = [SelectChoice(stage, stage)
                          for stage in actions.stages_of(neighbourhood)]
    return form


def _rebase_form(report: TeamReport) -> RebaseForm:
    # Each option is only the pulse's name, so it is never cut short on a phone; what
    # each chart shows there is listed above the form.
    form = RebaseForm()
    form.wave_id.choices = [SelectChoice(str(c.wave_id), c.label)
                            for c in report.rebase_candidates]
    return form


@bp.route("/<int_slug>/teams/<team_slug>")
@int_report
def team(neighbourhood: Neighbourhood, team_slug: str) -> Any:
    team = _team_or_404(neighbourhood, team_slug)
    report = _report(team)
    _audit_page(neighbourhood, team)
    return _page(neighbourhood, report, _action_form(neighbourhood), _rebase_form(report))


@bp.route("/<int_slug>/teams/<team_slug>/actions", methods=["POST"])
@csrf.exempt  # the form checks its own token, so a stale one re-renders with the error summary
@int_report
def add_action(neighbourhood: Neighbourhood, team_slug: str) -> Any:
    team = _team_or_404(neighbourhood, team_slug)
    form = _action_form(neighbourhood)
    if form.validate_on_submit():
        try:
            action = actions.add_action(
                get_session(), neighbourhood=neighbourhood, team_id=team.id or 0,
                taken_on=form.taken_on.data, description=form.description.data or "",
                stage=form.stage.data or "", user_id=current_user.id, now=utcnow())
        except ActionError as error:
            form[error.field].errors = [str(error)]
        else:
            # The stage is one of the INT's own words; what was done stays out of the log.
            audit_view("action.add", _target(neighbourhood, team), action_id=action.id,
                       stage=action.stage)
            get_session().commit()
            flash("Action added to the log and drawn on the charts.")
            return redirect(url_for("reports.team", int_slug=neighbourhood.slug,
                                    team_slug=team.slug, _anchor="actions"))
    report = _report(team)
    _audit_page(neighbourhood, team)
    return _page(neighbourhood, report, form, _rebase_form(report)), 400


@bp.route("/<int_slug>/teams/<team_slug>/rebase", methods=["POST"])
@csrf.exempt  # the form checks its own token, so a stale one re-renders with the error summary
@int_report
def add_rebase(neighbourhood: Neighbourhood, team_slug: str) -> Any:
    team = _team_or_404(neighbourhood, team_slug)
    report = _report(team)
    form = _rebase_form(report)
    if form.validate_on_submit():
        try:
            rebase = team_report.add_rebase_at_special_cause(
                get_session(), team=team,
                instrument=team_pulse(),
                threshold=current_app.config["PULSE_SUPPRESSION_THRESHOLD"],
                wave_id=_wave_id(form.wave_id.data), reason=form.reason.data or "",
                user_id=current_user.id, now=utcnow())
        except ActionError as error:
            form[error.field].errors = [str(error)]
        else:
            audit_view("rebase.add", _target(neighbourhood, team), wave_id=rebase.wave_id)
            get_session().commit()
            flash("The charts now start afresh from that pulse, with new limits.")
            return redirect(url_for("reports.team", int_slug=neighbourhood.slug,
                                    team_slug=team.slug, _anchor="measures"))
    _audit_page(neighbourhood, team)
    return _page(neighbourhood, report, _action_form(neighbourhood), form), 400


def _wave_id(value: str | None) -> int:
    # Not a number cannot be a wave with a shift: the service then refuses it clearly.
    try:
        return int(value or "")
    except ValueError:
        return 0


@bp.route("/<int_slug>/teams/<team_slug>/<table>.csv")
@int_report
def team_csv(neighbourhood: Neighbourhood, team_slug: str, table: str) -> Any:
    team = _team_or_404(neighbourhood, team_slug)
    if table not in CSV_TABLES:
        abort(404)
    report = _report(team)
    header, rows = _CSV_BUILDERS[table](report)
    filename = f"{neighbourhood.slug}-{team.slug}-{table}"
    audit_view("report.csv", _target(neighbourhood, team), file=filename)
    get_session().commit()
    return csv_download(filename, header, rows)


# --------------------------------------------------------------------------- the page


def _audit_page(neighbourhood: Neighbourhood, team: Team) -> None:
    """Record that the page was read (or printed) and commit: the request's one commit."""
    audit_view(page_action(), _target(neighbourhood, team))
    get_session().commit()


def _page(neighbourhood: Neighbourhood, report: TeamReport, action_form: ActionForm,
          rebase_form: RebaseForm) -> Any:
    team = report.team
    return render_report(
        "reports/team.html", filename=f"{neighbourhood.slug}-{team.slug}",
        neighbourhood=neighbourhood, team=team,
        report=report, drawn=_draw_measures(report), heatmap=_draw_heatmap(report),
        action_form=action_form, rebase_form=rebase_form, heatmap_window=WINDOW,
        fatigue_tags=FATIGUE_TAGS, fatigue_labels=FATIGUE_LABELS,
    )


def _events(report: TeamReport) -> list[ChartEvent]:
    return [ChartEvent(placed.marker, placed.at_index, placed.action.description)
            for placed in report.actions if placed.at_index is not None]


def _draw_measures(report: TeamReport) -> list[DrawnMeasure]:
    if not report.labels:
        return []
    team = report.team.name
    span = f"{report.labels[0]} to {report.labels[-1]}"
    events = _events(report)
    drawn = []
    for measure in report.measures:
        # Each chart is drawn wide and narrow (for_every_width), so its text is never
        # under 12 px, on a phone or a desktop.
        rate_svg = for_every_width(
            response_rate_svg,
            title=f"Response rate of each pulse, {team}",
            description=f"Bars of the share of invited staff who answered each pulse, {span}, "
                        "on the same pulses as the chart above.",
            labels=report.labels, rates=report.response_rates,
            chart_id=f"team-{measure.key}-rate", x_label=X_LABEL)
        svg, rows = None, []
        chart = measure.chart
        if chart is not None:
            values = list(measure.values)
            svg = for_every_width(
                xmr_chart_svg,
                title=f"{measure.title}, {team}",
                description=_describe(measure, chart, report.labels, span),
                labels=report.labels, values=values, chart=chart,
                improvement="increase", unit=measure.unit, events=events,
                hidden_reasons=measure.hidden_reasons, chart_id=f"team-{measure.key}",
                y_label=Y_LABELS.get(measure.key, measure.title), x_label=X_LABEL)
            rows = xmr_table_rows(report.labels, values, chart, measure.hidden_reasons)
        drawn.append(DrawnMeasure(measure, svg, rate_svg, rows))
    return drawn


def _describe(measure: Measure, chart: XmRChart, labels: Sequence[str], span: str) -> str:
    """The chart's text alternative; ``chart`` is the measure's (drawn only when it has one)."""
    shown = [v for v in measure.values if v is not None]
    improvement = sum(v == "special_cause_improvement" for v in chart.variation)
    concern = sum(v == "special_cause_concern" for v in chart.variation)
    hidden = sum(v is None for v in measure.values)
    words = [f"XmR chart of {len(labels)} pulses, {span}, higher is better.",
             f"Latest shown value {shown[-1]:.1f}{measure.unit}, "
             f"current mean {chart.mean[-1]:.1f}{measure.unit}."]
    words.append(f"{improvement} pulses show an unusual change for the better and {concern} "
                 "an unusual change for the worse." if improvement or concern
                 else "No shown pulse is an unusual change.")
    if hidden:
        words.append(f"{hidden} pulses are hidden (see the table).")
    if len(set(chart.segment)) > 1:
        words.append("The limits are worked out afresh each time the chart starts afresh.")
    return " ".join(words)


def _draw_heatmap(report: TeamReport) -> str | None:
    if not report.heatmap_rows or not report.heatmap_columns:
        return None
    return for_every_width(
        heatmap_svg,
        title=f"Rotating questions by groups of pulses, {report.team.name}",
        description=f"Mean score out of 10 of each rotating question, answers pooled over "
                    f"fixed groups of {WINDOW} pulses; a cell with too few answers is hidden.",
        rows=[row.text for row in report.heatmap_rows],
        columns=list(report.heatmap_columns),
        cells=[[Cell(cell.value, cell.hidden_reason) for cell in row.cells]
               for row in report.heatmap_rows],
        chart_id="team-heatmap", column_title=f"Groups of {WINDOW} pulses")


# --------------------------------------------------------------------------- CSV


Table = tuple[list[str], list[list[object]]]


def _hideable(value: float | None, reason: str | None) -> object:
    return SuppressedCell(reason) if reason else value


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _measures_csv(report: TeamReport) -> Table:
    columns = ["Measure", "Pulse", "Invited", "Responded", "Response rate (%)", "Value",
               "Mean", "Lower process limit", "Upper process limit", "Variation"]
    rows: list[list[object]] = []
    for drawn in _draw_measures(report):
        measure = drawn.measure
        for i, label in enumerate(report.labels):
            row = drawn.rows[i] if drawn.rows else None
            # A hidden wave's counts and response rate are None (empty), as on the page;
            # "Hidden because" says why.
            rows.append([
                measure.title, label, report.invited[i], report.responded[i],
                _rounded(report.response_rates[i]),
                _hideable(_rounded(measure.values[i], 2), measure.hidden_reasons[i]),
                _rounded(row["mean"], 2) if row else None,
                _rounded(row["lower"], 2) if row else None,
                _rounded(row["upper"], 2) if row else None,
                row["variation"] if row else "Too few pulses to chart",
            ])
    return table_with_reasons(columns, rows, hideable=["Value"])


def _heatmap_csv(report: TeamReport) -> Table:
    columns = ["Question", "Pulses", "Mean score (0 to 10)"]
    rows: list[list[object]] = [
        [row.text, window, _hideable(_rounded(cell.value, 2), cell.hidden_reason)]
        for row in report.heatmap_rows
        for window, cell in zip(report.heatmap_columns, row.cells, strict=True)
    ]
    return table_with_reasons(columns, rows, hideable=["Mean score (0 to 10)"])


def _fatigue_csv(report: TeamReport) -> Table:
    columns = ["Pulse", "Invited", "Responded", "Response rate (%)",
               "Questions left blank (%)", "Median completion (seconds)"]
    rows: list[list[object]] = [
        [row.label, row.invited, row.responded, _rounded(row.response_rate),
         _hideable(_rounded(row.blank_share), row.hidden_reason),
         _hideable(row.median_seconds, row.hidden_reason)]
        for row in report.fatigue_rows
    ]
    return table_with_reasons(columns, rows, hideable=columns[4:])


def _actions_csv(report: TeamReport) -> Table:
    columns = ["Marker", "Date", "Stage", "What was done", "Drawn at pulse"]
    rows: list[list[object]] = [
        [placed.marker, placed.action.taken_on.isoformat(), placed.action.stage,
         placed.action.description,
         report.labels[placed.at_index] if placed.at_index is not None else "After the latest"]
        for placed in report.actions
    ]
    return columns, rows


_CSV_BUILDERS = {"measures": _measures_csv, "heatmap": _heatmap_csv,
                 "fatigue": _fatigue_csv, "actions": _actions_csv}
