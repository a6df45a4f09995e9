"""Report pages: patient activation (routes registered on survey_app.reporting.views.bp).

The page and each of its tables as CSV, narrowed by the optional ``site`` and
``channel`` query arguments. Everything shown comes suppressed from
:func:`survey_app.reporting.activation_report.activation_report`; this module
only lays it out as charts, tables and CSV rows.

The charts plot the months that have ended; the month in progress is a row of
the month tables (and their CSV) marked "so far (month in progress)".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, current_app, request
from flask_login import current_user
from wtforms import Form, SelectChoice, SelectField

from analysis.activation import ActivationSummary, PairedActivationChange
from analysis.proportions import DifferenceInterval
from survey_app.activation.ratings import ACTIVATION, rating_labels
from survey_app.core.clock import local_date, utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import instrument
from survey_app.models import CHANNELS, Neighbourhood
from survey_app.reporting.activation_report import (
    CHANNEL_LABELS,
    ActivationReport,
    Filters,
    RatingGroup,
    activation_report,
    finite,
    sites_of,
)
from survey_app.reporting.charts import for_every_width
from survey_app.reporting.charts.bars import Interval, distribution_svg, interval_svg
from survey_app.reporting.exports import SuppressedCell, table_with_reasons
from survey_app.reporting.views import (
    audit_view,
    bp,
    csv_download,
    int_report,
    page_action,
    render_report,
)


def _rating_labels() -> dict[int, str]:
    """The answers' words, from the activation instrument the app loaded."""
    return rating_labels(instrument(ACTIVATION))


def _ratings() -> tuple[str, ...]:
    return tuple(f"{rating} {label}" for rating, label in _rating_labels().items())


class FilterForm(Form):  # type: ignore[misc]
    """The page's optional narrowing, read from the query string (a GET form: no CSRF)."""

    site = SelectField("Site", default="", invalid_choice_message="Choose a site from the list")
    channel = SelectField("How the rating was given", default="",
                          invalid_choice_message="Choose a channel from the list")


def _filter_form(neighbourhood: Neighbourhood) -> FilterForm:
    form = FilterForm(request.args)
    form.site.choices = [SelectChoice("", "All sites")] + [
        SelectChoice(site.code, site.name)
        for site in sites_of(get_session(), neighbourhood=neighbourhood)
    ]
    form.channel.choices = [SelectChoice("", "All channels")] + [
        SelectChoice(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS
    ]
    return form


def _filters(form: FilterForm) -> Filters | None:
    """The filters asked for, or None when one names no site or channel of the INT."""
    if not form.validate():
        return None
    return Filters(site=form.site.data or None, channel=form.channel.data or None)


def _report(neighbourhood: Neighbourhood, filters: Filters) -> ActivationReport:
    return activation_report(get_session(), neighbourhood=neighbourhood,
                             threshold=current_app.config["PULSE_SUPPRESSION_THRESHOLD"],
                             today=local_date(utcnow()), filters=filters)


def _scope_words(report: ActivationReport) -> str:
    parts = []
    if report.filters.site:
        parts.append(next(s.name for s in report.sites if s.code == report.filters.site))
    if report.filters.channel:
        parts.append(CHANNEL_LABELS[report.filters.channel].lower())
    return ", ".join(parts) if parts else "all sites and channels"


# --------------------------------------------------------------------------- charts


def _charts(report: ActivationReport) -> dict[str, str]:
    """The two charts of the months that have ended (never the month in progress)."""
    if not report.months:
        return {}
    labels = [month.label for month in report.months]
    reasons = [month.hidden_reason for month in report.months]
    scope = _scope_words(report)
    left_out = (f" {report.month_in_progress_name} is not drawn until it ends; its ratings "
                "so far are in the table." if report.month_in_progress_name else "")
    # Drawn wide and narrow (for_every_width) so chart text is 12 px or more on a phone.
    distribution = for_every_width(
        distribution_svg,
        title=f"Activation ratings by month ({scope})",
        description=("One bar per month, each 100% of that month's ratings, split from the "
                     "bottom into 1 Not very, 2 Okay, 3 Good and 4 Excellent; the two low "
                     "ratings are hatched. Hidden months are marked under the axis. The "
                     "figures are in the table below the chart." + left_out),
        labels=labels,
        counts=[month.counts if month.summary else (None if month.hidden_reason else
                                                    (0, 0, 0, 0))
                for month in report.months],
        rating_names=list(_rating_labels().values()),
        hidden_reasons=reasons, chart_id="activation-distribution",
    )
    low = for_every_width(
        interval_svg,
        title=f"Share of ratings with low activation (1 or 2) by month ({scope})",
        description=("One point per month: the percentage of ratings that were 1 or 2, with "
                     "its 95% Wilson interval as a vertical line. Hidden months are marked "
                     "under the axis. The figures are in the table below the chart." + left_out),
        labels=labels,
        values=[_percent_interval(month.summary) for month in report.months],
        value_name="share rated low", hidden_reasons=reasons, chart_id="activation-low",
    )
    return {"distribution": distribution, "low": low}


def _percent_interval(summary: ActivationSummary | None) -> Interval | None:
    if summary is None:
        return None
    low = summary.low_activation
    return Interval(100 * low.estimate, 100 * low.lower, 100 * low.upper)


# --------------------------------------------------------------------------- CSV tables


def _pct(value: float) -> float:
    return round(100 * value, 1)


def _num(value: float | None, digits: int = 2) -> float | None:
    checked = None if value is None else finite(value)
    return None if checked is None else round(checked, digits)


def _group_columns() -> tuple[str, ...]:
    return ("Ratings", *(f"{name} (number)" for name in _ratings()), "% low (1 or 2)",
            "% low: 95% interval from", "% low: 95% interval to", "Mean rating")


def _group_cells(group: RatingGroup) -> list[object]:
    if group.hidden_reason is not None:
        return [SuppressedCell(group.hidden_reason)] * len(_group_columns())
    if group.summary is None:
        return [0, 0, 0, 0, 0, None, None, None, None]
    low = group.summary.low_activation
    return [group.n, *(int(c) for c in group.summary.counts), _pct(low.estimate),
            _pct(low.lower), _pct(low.upper), _num(group.summary.mean)]


def _groups_table(name: str, groups: Sequence[RatingGroup]) -> tuple[list[str], list[list[object]]]:
    columns = _group_columns()
    return table_with_reasons([name, *columns],
                              [[group.label, *_group_cells(group)] for group in groups],
                              hideable=columns)


def _month_rows(report: ActivationReport) -> list[RatingGroup]:
    """The month tables' rows: months ended, their total, then the month in progress.

    The month in progress comes after "All months" because it is not in it.
    """
    in_progress = [report.month_in_progress] if report.month_in_progress else []
    return [*report.months, report.total, *in_progress]


def _distribution(report: ActivationReport) -> tuple[list[str], list[list[object]]]:
    return _groups_table("Month", _month_rows(report))


def _low_activation(report: ActivationReport) -> tuple[list[str], list[list[object]]]:
    columns = ("Ratings", "% low (1 or 2)", "95% interval from", "95% interval to")
    rows: list[list[object]] = []
    for month in _month_rows(report):
        cells = _group_cells(month)
        rows.append([month.label, cells[0], *cells[5:8]])
    return table_with_reasons(["Month", *columns], rows, hideable=columns)


def _site_channel(report: ActivationReport) -> tuple[list[str], list[list[object]]]:
    table = report.site_channel
    rows = [[site.name, CHANNEL_LABELS[channel], *_group_cells(cell)]
            for site, cells in zip(table.sites, table.cells, strict=True)
            for channel, cell in zip(table.channels, cells, strict=True)]
    columns = _group_columns()
    return table_with_reasons(["Site", "Channel", *columns], rows, hideable=columns)


def _periods(report: ActivationReport) -> tuple[list[str], list[list[object]]]:
    columns = ("Earlier: ratings", "Earlier: % low", "Later: ratings", "Later: % low",
               "Change in % low (points)", "Change: 95% interval from",
               "Change: 95% interval to")
    rows: list[list[object]] = []
    for row in report.periods:
        earlier, later = _group_cells(row.earlier), _group_cells(row.later)
        change: list[object]
        if row.change is not None:
            change = [_pct(row.change.difference), _pct(row.change.lower),
                      _pct(row.change.upper)]
        else:
            reason = row.earlier.hidden_reason or row.later.hidden_reason
            change = [SuppressedCell(reason)] * 3 if reason else [None] * 3
        rows.append([row.site.name if row.site else "All sites", report.earlier_label,
                     report.later_label, earlier[0], earlier[5], later[0], later[5], *change])
    return table_with_reasons(["Site", "Earlier period", "Later period", *columns], rows,
                              hideable=columns)


def _change_cells(change: PairedActivationChange | None, pairs: int | None,
                  reason: str | None) -> list[object]:
    if reason is not None:
        return [SuppressedCell(reason)] * 4
    if change is None:
        return [pairs or 0, None, None, None]
    return [pairs, _num(change.mean_change), _num(change.change_low), _num(change.change_high)]


def _paired(report: ActivationReport) -> tuple[list[str], list[list[object]]]:
    groups = ("All paired", "Started low (1 or 2)", "Started at 3 or 4")
    columns = [f"{group}: {what}" for group in groups
               for what in ("patients", "mean change", "95% interval from", "95% interval to")]
    hidden_columns = [*columns, "Mean first rating", "Mean latest rating"]
    rows: list[list[object]] = []
    for row in report.paired:
        means: list[object]
        if row.hidden_reason is not None:
            means = [SuppressedCell(row.hidden_reason)] * 2
        elif row.change is None:
            means = [None, None]
        else:
            means = [_num(row.change.baseline_mean), _num(row.change.followup_mean)]
        rows.append([
            row.site.name if row.site else "All sites",
            *_change_cells(row.change, row.pairs, row.hidden_reason),
            *_change_cells(row.started_low, row.started_low_pairs,
                           row.started_low_hidden_reason),
            *_change_cells(row.started_higher, row.started_higher_pairs,
                           row.started_higher_hidden_reason),
            *means, _VERDICT_WORDS[row.verdict], row.sentence,
        ])
    return table_with_reasons(["Site", *columns, "Mean first rating", "Mean latest rating",
                               "Reading", "In words"], rows, hideable=hidden_columns)


_VERDICT_WORDS = {
    "rose": "Activation rose",
    "fell": "Activation fell",
    "regression_to_the_mean": "Regression to the mean, not a real rise",
    "no_clear_change": "No clear change",
    "too_few": "Too few ratings to judge",
}

TABLES: dict[str, Callable[[ActivationReport], tuple[list[str], list[list[object]]]]] = {
    "distribution": _distribution,
    "low-activation": _low_activation,
    "sites": lambda report: _groups_table("Site", report.by_site),
    "channels": lambda report: _groups_table("Channel", report.by_channel),
    "site-channel": _site_channel,
    "periods": _periods,
    "paired": _paired,
}


def _interval_words(value: DifferenceInterval | PairedActivationChange | Any,
                    scale: float = 1.0, digits: int = 0) -> str:
    """"a to b" for an interval's limits, or "not available" when they are NaN."""
    if isinstance(value, PairedActivationChange):
        lower, upper = finite(value.change_low), finite(value.change_high)
    else:
        lower, upper = finite(value.lower), finite(value.upper)
    if lower is None or upper is None:
        return "not available (too few pairs)"
    return f"{_signed(lower * scale, digits)} to {_signed(upper * scale, digits)}"


def _signed(value: float, digits: int) -> str:
    text = f"{value:+.{digits}f}"
    return text.replace("-", "\u2212")


# --------------------------------------------------------------------------- routes


@bp.route("/<int_slug>/activation")
@int_report
def activation(neighbourhood: Neighbourhood) -> Any:
    form = _filter_form(neighbourhood)
    filters = _filters(form)
    errors = [(f"{name}", form[name].errors[0]) for name in ("site", "channel")
              if form[name].errors]
    report = _report(neighbourhood, filters or Filters())
    query = {key: value for key, value in (("site", report.filters.site),
                                           ("channel", report.filters.channel)) if value}
    audit_view(page_action(), f"activation:{neighbourhood.slug}")
    get_session().commit()
    return render_report(
        "reports/activation.html", filename=f"activation-{neighbourhood.slug}",
        neighbourhood=neighbourhood, report=report, form=form, errors=errors,
        charts=_charts(report), scope=_scope_words(report), query=query,
        month_rows=_month_rows(report),
        channel_labels=CHANNEL_LABELS, ratings=_ratings(), verdict_words=_VERDICT_WORDS,
        is_admin=current_user.role == "admin", finite=finite, interval=_interval_words,
        threshold=report.threshold,
    )


@bp.route("/<int_slug>/activation/<any(" + ", ".join(f'"{name}"' for name in TABLES)
          + "):table>.csv")
@int_report
def activation_csv(neighbourhood: Neighbourhood, table: str) -> Any:
    form = _filter_form(neighbourhood)
    filters = _filters(form)
    if filters is None:
        message = "; ".join(form[name].errors[0] for name in ("site", "channel")
                            if form[name].errors)
        return Response(f"{message}\n", status=400, mimetype="text/plain")
    header, rows = TABLES[table](_report(neighbourhood, filters))
    suffix = "".join(f"-{value}" for value in (filters.site, filters.channel) if value)
    filename = f"activation-{neighbourhood.slug}-{table}{suffix}"
    audit_view("report.csv", f"activation:{neighbourhood.slug}", file=filename)
    get_session().commit()
    return csv_download(filename, header, rows)
