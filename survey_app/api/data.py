"""What each API endpoint returns, as JSON-ready dicts, from the reporting modules.

Nothing is computed here: the figures come from :mod:`survey_app.reporting.overview`
and :mod:`survey_app.reporting.team_report` (and through them :mod:`analysis`),
already suppressed; this module names them and turns proportions into
percentages. Any value that is hidden is ``None`` with a ``hidden_reason`` next
to it, and a hidden team or wave carries no figure, count or response rate at all.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from analysis import suppression
from analysis.activation import PairedActivationChange
from analysis.proportions import ProportionInterval, wilson_interval
from questionnaires import Instrument
from survey_app.accounts import users
from survey_app.core.clock import as_utc, local_date
from survey_app.models import Neighbourhood, Team, User, Wave
from survey_app.pulse.teams import list_neighbourhoods
from survey_app.reporting import actions, activation_report, team_report
from survey_app.reporting.charts import assurance_words, variation_words
from survey_app.reporting.overview import (
    TeamOverview,
    WavePoint,
    int_overview,
    wave_hidden_codes,
)
from survey_app.reporting.vocabulary import NOT_ALL_ASKED

NO_ANSWERS = team_report.NO_ANSWERS
# More staff recommending their team is better, as on the overview page.
IMPROVEMENT = "increase"


def _number(value: float | None) -> float | None:
    """A finite float, or None: JSON has no NaN."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _instant(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _day(value: date) -> str:
    return value.isoformat()


def team_ref(team: Team) -> dict[str, Any]:
    return {"slug": team.slug, "name": team.name}


def int_ref(neighbourhood: Neighbourhood) -> dict[str, Any]:
    return {"slug": neighbourhood.slug, "name": neighbourhood.name}


def proportion(interval: ProportionInterval | None, hidden_reason: str | None) -> dict[str, Any]:
    """A % with its Wilson interval and counts; all None with the reason when hidden."""
    if interval is None or hidden_reason is not None:
        return {"percent": None, "lower": None, "upper": None, "positive": None,
                "answered": None, "confidence": None,
                "hidden_reason": hidden_reason or NO_ANSWERS}
    return {"percent": 100 * interval.estimate, "lower": 100 * interval.lower,
            "upper": 100 * interval.upper, "positive": interval.successes,
            "answered": interval.n, "confidence": interval.confidence, "hidden_reason": None}


def score(value: float | None, hidden_reason: str | None) -> dict[str, Any]:
    """The engagement score (0 to 10); None with the reason when hidden or not computable."""
    shown = _number(value) if hidden_reason is None else None
    return {"score": shown,
            "hidden_reason": None if shown is not None else hidden_reason or NOT_ALL_ASKED}


# --------------------------------------------------------------------------- INTs


def visible_ints(session: Session, *, user: User) -> dict[str, Any]:
    """The INTs ``user`` may read, by name, each with its teams."""
    allowed = users.neighbourhood_ids(session, user=user)
    neighbourhoods = [n for n in list_neighbourhoods(session)
                      if allowed is None or n.id in allowed]
    teams: dict[int, list[Team]] = {n.id or 0: [] for n in neighbourhoods}
    for team in session.exec(select(Team).where(col(Team.neighbourhood_id).in_(list(teams)))
                             .order_by(col(Team.name))):
        teams[team.neighbourhood_id].append(team)
    return {"ints": [{**int_ref(n), "teams": [team_ref(t) for t in teams[n.id or 0]]}
                     for n in neighbourhoods]}


# --------------------------------------------------------------------------- overview


def overview(session: Session, *, neighbourhood: Neighbourhood, instrument: Instrument,
             threshold: int, now: datetime) -> dict[str, Any]:
    """One entry per team, from :func:`survey_app.reporting.overview.int_overview`."""
    rows = int_overview(session, neighbourhood=neighbourhood, instrument=instrument,
                        threshold=threshold, now=now)
    # The one rule of which waves are hidden, for the trend's earlier waves.
    codes = wave_hidden_codes(session, threshold=threshold, neighbourhood_id=neighbourhood.id)
    return {"int": int_ref(neighbourhood), "suppression_threshold": threshold,
            "teams": [_overview_row(row, codes) for row in rows]}


def open_wave(closes_at: datetime, invited: int, responded: int) -> dict[str, Any]:
    """A wave still open: how many answered so far, never what."""
    return {"closes_at": _instant(closes_at), "invited": invited, "responded": responded,
            "response_rate_percent": 100 * responded / invited if invited else None}


def _trend_percent(wave: WavePoint, codes: dict[int, str | None]) -> float | None:
    """A wave's response rate in the trend; None when nobody was invited or it is hidden."""
    if codes.get(wave.wave_id, suppression.TOO_FEW_ANSWERS) or wave.response_rate is None:
        return None
    return 100 * wave.response_rate


def _overview_row(row: TeamOverview, codes: dict[int, str | None]) -> dict[str, Any]:
    latest = row.latest
    entry: dict[str, Any] = {
        "team": team_ref(row.team),
        "latest_wave": latest.label if latest else None,
        "hidden_reason": row.hidden_reason,
        "open_waves": [open_wave(w.closes_at, w.invited, w.responded) for w in row.open_waves],
    }
    if row.hidden_reason is not None or latest is None:
        reason = row.hidden_reason or NO_ANSWERS
        return {**entry, "recommend_work": proportion(None, reason),
                "recommend_care": proportion(None, reason), "engagement": score(None, reason),
                "response_rate": {"percent": None, "invited": None, "responded": None,
                                  "trend": None, "direction": None, "summary": None,
                                  "hidden_reason": reason},
                "variation": None, "assurance": None, "fatigue": None, "change": None}
    trend = row.response_trend
    return {
        **entry,
        "recommend_work": proportion(row.recommend_work, row.work_hidden_reason),
        "recommend_care": proportion(row.recommend_care, row.care_hidden_reason),
        "engagement": score(row.engagement, row.engagement_hidden_reason),
        "response_rate": {
            "percent": 100 * row.response_rate if row.response_rate is not None else None,
            "invited": latest.invited, "responded": latest.responded,
            "trend": [{"wave": w.label, "percent": _trend_percent(w, codes)}
                      for w in row.waves],
            "direction": trend.direction if trend else None,
            "summary": trend.words if trend else None,
            "hidden_reason": None,
        },
        "variation": _variation(row.variation),
        "assurance": _assurance(row.assurance) if row.work_chart is not None else None,
        "fatigue": {"level": row.fatigue.level, "reasons": list(row.fatigue.reasons)}
        if row.fatigue else None,
        "change": {"verdict": row.change.verdict,
                   "sentence": row.change_sentence or row.change.sentence,
                   "explanation": row.change.sentence}
        if row.change else None,
    }


def _variation(code: str | None) -> dict[str, Any] | None:
    """Making Data Count variation of the latest wave of % recommending as a workplace."""
    if code is None:  # no chart yet, or the latest wave is a gap
        return None
    short, sentence = variation_words(code, IMPROVEMENT)
    return {"code": code, "label": short, "description": sentence}


def _assurance(code: str | None) -> dict[str, Any]:
    short, sentence = assurance_words(code)
    return {"code": code, "label": short, "description": sentence}


# --------------------------------------------------------------------------- waves


def team_waves(session: Session, *, neighbourhood: Neighbourhood, team: Team,
               instrument: Instrument, threshold: int, now: datetime) -> dict[str, Any]:
    """Each closed wave as the team page shows it, and the open wave's response rate."""
    # The API never returns comments, so no answer's free text is read.
    report = team_report.team_report(session, team=team, instrument=instrument,
                                     threshold=threshold, now=now, with_comments=False)
    measures = {measure.key: measure for measure in report.measures}
    dates = {
        wave_id: (opens_at, closes_at)
        for wave_id, opens_at, closes_at in session.exec(
            select(Wave.id, Wave.opens_at, Wave.closes_at)
            .where(col(Wave.id).in_([w.wave_id for w in report.waves])))
    }
    waves = []
    for index, point in enumerate(report.waves):
        opens_at, closes_at = dates[point.wave_id]
        work, care = measures["recommend_work"], measures["recommend_care"]
        engagement = measures["engagement"]
        waves.append({
            "label": point.label,
            "opens_at": _instant(opens_at),
            "closes_at": _instant(closes_at),
            # None, as every figure, when the wave is hidden (for either reason).
            "invited": report.invited[index],
            "responded": report.responded[index],
            "response_rate_percent": _number(report.response_rates[index]),
            "hidden_reason": report.wave_hidden[index],
            "recommend_work": _measure_proportion(point, "recommend_work",
                                                  work.values[index],
                                                  work.hidden_reasons[index]),
            "recommend_care": _measure_proportion(point, "recommend_care",
                                                  care.values[index],
                                                  care.hidden_reasons[index]),
            "engagement": score(engagement.values[index], engagement.hidden_reasons[index]),
        })
    pulse = report.open_pulse
    return {
        "int": int_ref(neighbourhood),
        "team": team_ref(team),
        "suppression_threshold": threshold,
        "waves": waves,
        "open_wave": open_wave(pulse.closes_at, pulse.invited, pulse.responded)
        if pulse else None,
    }


def _measure_proportion(point: WavePoint, item_id: str, shown: float | None,
                        reason: str | None) -> dict[str, Any]:
    # The page decided whether the % is shown; the interval is analysis/'s for the same counts.
    if shown is None:
        return proportion(None, reason or NO_ANSWERS)
    return proportion(wilson_interval(*point.positive(item_id)), None)


# --------------------------------------------------------------------------- actions


def team_actions(session: Session, *, neighbourhood: Neighbourhood,
                 team: Team) -> dict[str, Any]:
    """The team's action log ("you said, we did"), oldest first."""
    return {
        "int": int_ref(neighbourhood),
        "team": team_ref(team),
        "stages": actions.stages_of(neighbourhood),
        "actions": [{"taken_on": _day(action.taken_on), "stage": action.stage,
                     "description": action.description}
                    for action in actions.list_actions(session, team_id=team.id or 0)],
    }


# --------------------------------------------------------------------------- activation


def activation(session: Session, *, neighbourhood: Neighbourhood, threshold: int,
               site: str | None, channel: str | None, now: datetime) -> dict[str, Any]:
    """Patient activation, from :func:`survey_app.reporting.activation_report.activation_report`.

    ``months`` are the months that have ended; the current month (London time)
    is ``month_in_progress`` until it ends, as on the page.

    Raises ``ValueError`` for a site the INT does not have or an unknown channel.
    """
    report = activation_report.activation_report(
        session, neighbourhood=neighbourhood, threshold=threshold, today=local_date(now),
        filters=activation_report.Filters(site=site, channel=channel))
    return {
        "int": int_ref(neighbourhood),
        "suppression_threshold": threshold,
        "filters": {"site": report.filters.site, "channel": report.filters.channel},
        "sites": [_site(s) for s in report.sites],
        "channels": [{"code": code, "label": label}
                     for code, label in activation_report.CHANNEL_LABELS.items()],
        "total": _rating_group(report.total),
        "months": [_rating_group(g) for g in report.months],
        "month_in_progress": (_rating_group(report.month_in_progress)
                              if report.month_in_progress else None),
        "by_site": [_rating_group(g) for g in report.by_site],
        "by_channel": [_rating_group(g) for g in report.by_channel],
        "site_channel": [
            {"site": _site(row_site),
             "cells": [{"channel": channel_code, "group": _rating_group(cell)}
                       for channel_code, cell in zip(report.site_channel.channels, cells,
                                                     strict=True)]}
            for row_site, cells in zip(report.site_channel.sites, report.site_channel.cells,
                                       strict=True)
        ],
        "periods": {
            "earlier": report.earlier_label, "later": report.later_label,
            "rows": [_period_row(row) for row in report.periods],
        },
        "paired": [_paired_row(row) for row in report.paired],
        "napc": {
            "gp_contacts_per_point": report.napc.gp_contacts_per_point,
            "care_demand_gbp_per_point": report.napc.care_demand_gbp_per_point,
            "summary": report.napc.summary,
            "source": report.napc.source,
            "caveat": report.napc.caveat,
        },
    }


def _site(site: activation_report.SiteRef | None) -> dict[str, Any] | None:
    return {"code": site.code, "name": site.name} if site else None


def _rating_group(group: activation_report.RatingGroup) -> dict[str, Any]:
    """A group's ratings: counts, % low activation and mean, or why they are hidden."""
    summary = group.summary
    base = {"key": group.key, "label": group.label}
    if summary is None:
        # Hidden (n is None, with the reason), or no ratings at all (n is 0).
        return {**base, "n": group.n, "counts": None, "low_activation": None,
                "mean": None, "mean_lower": None, "mean_upper": None,
                "hidden_reason": group.hidden_reason}
    low = summary.low_activation
    return {**base, "n": summary.n, "counts": [int(c) for c in summary.counts],
            "low_activation": {"percent": 100 * low.estimate, "lower": 100 * low.lower,
                               "upper": 100 * low.upper, "low": low.successes, "n": low.n,
                               "confidence": low.confidence},
            "mean": _number(summary.mean), "mean_lower": _number(summary.mean_low),
            "mean_upper": _number(summary.mean_high), "hidden_reason": None}


def _period_row(row: activation_report.PeriodRow) -> dict[str, Any]:
    change = row.change
    return {
        "site": _site(row.site),
        "earlier": _rating_group(row.earlier),
        "later": _rating_group(row.later),
        "change_in_low_activation": {
            "points": 100 * change.difference, "lower": _number(100 * change.lower),
            "upper": _number(100 * change.upper), "confidence": change.confidence,
        } if change else None,
        "hidden_reason": None if change else row.earlier.hidden_reason
        or row.later.hidden_reason,
    }


def _paired_change(change: PairedActivationChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "pairs": change.n_pairs,
        "baseline_mean": _number(change.baseline_mean),
        "followup_mean": _number(change.followup_mean),
        "mean_change": _number(change.mean_change),
        "lower": _number(change.change_low),
        "upper": _number(change.change_high),
        "confidence": change.confidence,
        "p_value": _number(change.p_value),
        "moved_up": change.n_up, "stayed": change.n_same, "moved_down": change.n_down,
        "regression_to_the_mean_caution": change.regression_to_mean_caution,
        "caution": change.caution,
    }


def _paired_row(row: activation_report.PairedRow) -> dict[str, Any]:
    return {
        "site": _site(row.site),
        "all": {"pairs": row.pairs, "change": _paired_change(row.change),
                "hidden_reason": row.hidden_reason},
        "started_low": {"pairs": row.started_low_pairs,
                        "change": _paired_change(row.started_low),
                        "hidden_reason": row.started_low_hidden_reason},
        "started_higher": {"pairs": row.started_higher_pairs,
                           "change": _paired_change(row.started_higher),
                           "hidden_reason": row.started_higher_hidden_reason},
        "verdict": row.verdict,
        "sentence": row.sentence,
    }
