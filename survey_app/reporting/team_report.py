"""What the team report page shows: one team's measures, heatmap, fatigue, actions, comments.

Everything is read from the per-wave aggregates (:func:`reports.team_series`)
except the free-text comments of one wave, and every figure is computed by
:mod:`analysis`.  Suppression is applied here, before anything is returned: a
hidden value is None and carries its reason, so neither the page, the PDF, a
CSV nor the API can show it by mistake.  Every shown figure rests on at least
``threshold`` answers: a wave by the one rule of
:func:`reports.wave_hidden_codes`, then each measure, engagement group and
heatmap cell by the answers it is computed from.  A wave that rule hides, for
either reason, shows the same everywhere: no figure, no count, no response
rate and no comment, only its reason.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from analysis.fatigue import FatigueAssessment
from analysis.spc import RULE_OUTSIDE_LIMITS, RULE_SHIFT, XmRChart, xmr
from questionnaires import Instrument
from survey_app.core.clock import LONDON, as_utc
from survey_app.models import (
    ItemAnswer,
    Response,
    Team,
    TeamAction,
    TeamRebase,
    Wave,
)
from survey_app.reporting import actions
from survey_app.reporting.actions import ActionError
from survey_app.reporting.overview import (
    ENGAGEMENT_GROUPS,
    FATIGUE_INDICATOR_NAMES,
    OpenWaveProgress,
    ResponseTrend,
    WavePoint,
    engagement_items,
    engagement_of,
    fatigue_of,
    latest_open_wave,
    p_value_words,
    plain_reason,
    rebase_positions,
    response_trend,
    team_series,
    wave_hidden_codes,
)
from survey_app.reporting.vocabulary import NOT_ALL_ASKED, TOO_FEW_ANSWERS, hidden_reason

NO_ANSWERS = "no answers"
#: Waves pooled into one heatmap column (counted from the team's first closed wave),
#: and the most columns drawn (two years monthly).
WINDOW = 3
MAX_WINDOWS = 8
#: Rules that mean a sustained shift, after which a lead may start the charts afresh.
SUSTAINED_RULES = {RULE_SHIFT: "a run of 7 points on one side of the mean",
                   RULE_OUTSIDE_LIMITS: "a point beyond the process limits"}


@dataclass(frozen=True)
class Measure:
    """One core measure across the team's closed waves, as charted.

    ``values`` holds None where a wave is hidden (its reason in ``hidden_reasons``);
    ``chart`` is None when fewer than two waves can be shown.
    """

    key: str
    title: str
    unit: str
    values: tuple[float | None, ...]
    hidden_reasons: tuple[str | None, ...]
    chart: XmRChart | None


@dataclass(frozen=True)
class PlacedAction:
    """An action with its chart marker label and the wave it is drawn at (None: after all)."""

    action: TeamAction
    marker: str
    at_index: int | None


@dataclass(frozen=True)
class RebaseCandidate:
    """A wave where a chart shows a sustained shift, so the charts may start afresh there."""

    wave_id: int
    label: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class HeatmapCell:
    value: float | None
    hidden_reason: str | None


@dataclass(frozen=True)
class HeatmapRow:
    item_id: str
    text: str
    cells: tuple[HeatmapCell, ...]


@dataclass(frozen=True)
class FatigueRow:
    """One closed wave's fatigue indicators; all None when the wave is hidden."""

    label: str
    invited: int | None
    responded: int | None
    response_rate: float | None
    blank_share: float | None
    median_seconds: float | None
    hidden_reason: str | None


@dataclass(frozen=True)
class FatigueWords:
    """The fatigue judgement as a lead reads it: plain words first, the statistics after.

    ``trend`` is the response rate's trend in the agreed words ("Falling response
    rate, unlikely to be chance"); ``reasons`` are the judgement's sentences without
    their p-values, and ``statistics`` each trend test behind them ("Response rate:
    trend test p < 0.001"), for a details block.
    """

    trend: ResponseTrend
    reasons: tuple[str, ...]
    statistics: tuple[str, ...]


@dataclass(frozen=True)
class Comments:
    """The free-text answers of one wave, shuffled.

    ``shown`` is False when none may be shown, or none were read (``with_comments``
    of :func:`team_report`).  ``latest_hidden_reason`` is the latest wave's hidden
    reason (in words) when the one rule hides it; None when it is shown, though its
    comments may still be hidden (``latest_hidden``) for too few answers for them.
    """

    shown: bool
    latest_hidden: bool
    questions: tuple[tuple[str, tuple[str, ...]], ...]
    latest_hidden_reason: str | None = None


@dataclass(frozen=True)
class TeamReport:
    """The team page's content.  ``waves`` holds every wave's raw counts, for
    computing only: what may be shown of a wave is ``invited``, ``responded`` and
    ``response_rates``, all None where ``wave_hidden`` gives a reason."""

    team: Team
    labels: tuple[str, ...]
    waves: tuple[WavePoint, ...]
    wave_hidden: tuple[str | None, ...]
    invited: tuple[int | None, ...]
    responded: tuple[int | None, ...]
    response_rates: tuple[float | None, ...]
    measures: tuple[Measure, ...]
    rebases: tuple[tuple[TeamRebase, str], ...]
    rebase_candidates: tuple[RebaseCandidate, ...]
    actions: tuple[PlacedAction, ...]
    heatmap_columns: tuple[str, ...]
    heatmap_rows: tuple[HeatmapRow, ...]
    #: Labels of the latest waves not yet in a heatmap column (their window is not complete).
    heatmap_waiting: tuple[str, ...]
    fatigue_rows: tuple[FatigueRow, ...]
    fatigue: FatigueAssessment | None
    fatigue_words: FatigueWords | None
    open_pulse: OpenWaveProgress | None
    comments: Comments


def find_team(session: Session, *, neighbourhood_id: int, slug: str) -> Team | None:
    return session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood_id,
                                           Team.slug == slug)).first()


def team_report(session: Session, *, team: Team, instrument: Instrument, threshold: int,
                now: datetime, free_text_threshold: int | None = None,
                with_comments: bool = True, rng: random.Random | None = None) -> TeamReport:
    """Everything the team page shows, suppressed with ``threshold``.

    Comments come from the latest closed wave with at least ``free_text_threshold``
    responses, shuffled with ``rng`` (default: the system's random source, so no
    order survives from one render to the next).  With ``with_comments=False``
    no free text is read and ``comments`` is empty (for callers that never
    show comments, such as the API).

    Raises ``ValueError`` when comments are wanted but ``free_text_threshold``
    is None.
    """
    team_id = team.id or 0
    series = team_series(session, team_id=team_id)
    hidden = wave_hidden_reasons(session, team=team, series=series, threshold=threshold)
    comments = Comments(False, False, ())
    if with_comments:
        if free_text_threshold is None:
            raise ValueError("free_text_threshold is needed to show comments")
        comments = _comments(session, series, hidden, instrument, free_text_threshold,
                             rng or random.SystemRandom())
    labels = tuple(w.label for w in series)
    rebase_at = rebase_positions(session, series={team_id: series})[team_id]
    measures = _measures(series, hidden, instrument, threshold, rebase_at)
    placed = _place_actions(session, series, actions.list_actions(session, team_id=team_id))
    label_of = {w.wave_id: w.label for w in series}
    windows = _windows(series)
    fatigue = fatigue_of(series) if series else None
    return TeamReport(
        team=team,
        labels=labels,
        waves=tuple(series),
        wave_hidden=hidden,
        invited=tuple(None if reason else w.invited
                      for w, reason in zip(series, hidden, strict=True)),
        responded=tuple(None if reason else w.responded
                        for w, reason in zip(series, hidden, strict=True)),
        response_rates=tuple(_response_rate(w, reason)
                             for w, reason in zip(series, hidden, strict=True)),
        measures=measures,
        rebases=tuple((r, label_of[r.wave_id])
                      for r in actions.list_rebases(session, team_id=team_id)
                      if r.wave_id in label_of),
        rebase_candidates=_rebase_candidates(series, measures),
        actions=placed,
        heatmap_columns=_windows_labels(series, windows),
        heatmap_rows=_heatmap(series, windows, hidden, instrument, threshold),
        heatmap_waiting=labels[windows[-1][-1] + 1:] if windows else labels,
        fatigue_rows=_fatigue_rows(series, hidden),
        fatigue=fatigue,
        fatigue_words=_fatigue_words(fatigue) if fatigue else None,
        open_pulse=latest_open_wave(session, team_id=team_id, now=now),
        comments=comments,
    )


def add_rebase_at_special_cause(session: Session, *, team: Team, instrument: Instrument,
                                threshold: int, wave_id: int, reason: str,
                                user_id: int | None, now: datetime) -> TeamRebase:
    """Start the team's charts afresh at ``wave_id``, if a chart shows a sustained shift there.

    Raises :class:`ActionError` (field ``wave_id``) when no chart shows a shift
    run or a point beyond the limits at that wave, and whatever
    :func:`actions.add_rebase` raises.
    """
    team_id = team.id or 0
    series = team_series(session, team_id=team_id)
    hidden = wave_hidden_reasons(session, team=team, series=series, threshold=threshold)
    rebase_at = rebase_positions(session, series={team_id: series})[team_id]
    measures = _measures(series, hidden, instrument, threshold, rebase_at)
    if wave_id not in {c.wave_id for c in _rebase_candidates(series, measures)}:
        raise ActionError("The charts show no sustained shift at that pulse, so they cannot "
                          "start afresh there. Choose a pulse from the list.", field="wave_id")
    return actions.add_rebase(session, team_id=team_id, wave_id=wave_id, reason=reason,
                              user_id=user_id, now=now)


# --------------------------------------------------------------------------- suppression


def wave_hidden_reasons(session: Session, *, team: Team, series: Sequence[WavePoint],
                        threshold: int) -> tuple[str | None, ...]:
    """Why each wave of ``series`` is hidden (in words), or None.

    The one rule of :func:`survey_app.reporting.overview.wave_hidden_codes`; a
    wave it does not know of is hidden as having too few answers.
    """
    codes = wave_hidden_codes(session, threshold=threshold,
                              neighbourhood_id=team.neighbourhood_id)
    reasons: list[str | None] = []
    for point in series:
        code = codes.get(point.wave_id, "too_few_answers")
        reasons.append(hidden_reason(code))
    return tuple(reasons)


def _response_rate(point: WavePoint, reason: str | None) -> float | None:
    """The wave's response rate (%), or None: nobody invited, or the wave is hidden."""
    if reason or not point.invited:
        return None
    return 100 * point.responded / point.invited


# --------------------------------------------------------------------------- measures


def _measures(series: Sequence[WavePoint], hidden: Sequence[str | None],
              instrument: Instrument, threshold: int,
              rebase_at: Sequence[int]) -> tuple[Measure, ...]:
    measures = []
    for key, title in (("recommend_work", "% who would recommend the team as a place to work"),
                       ("recommend_care", "% who would recommend the team's care")):
        values: list[float | None] = []
        reasons: list[str | None] = []
        for point, reason in zip(series, hidden, strict=True):
            positive, answered = point.positive(key)
            if reason is None and answered < threshold:
                # The wave is shown, but too few answered this question.
                reason = TOO_FEW_ANSWERS
            values.append(None if reason else 100 * positive / answered)
            reasons.append(reason)
        measures.append(_measure(key, title, "%", values, reasons, rebase_at))
    items = engagement_items(instrument)
    engagement: list[float | None] = []
    reasons = []
    for point, reason in zip(series, hidden, strict=True):
        score = None
        if reason is None:
            score, reason = _engagement(point, items, threshold)
        engagement.append(score)
        reasons.append(reason)
    measures.append(_measure("engagement", "Engagement score (0 to 10)", "", engagement,
                             reasons, rebase_at))
    return tuple(measures)


def _measure(key: str, title: str, unit: str, values: list[float | None],
             reasons: list[str | None], rebase_at: Sequence[int]) -> Measure:
    present = sum(v is not None for v in values)
    chart = None
    if present >= 2:
        chart = xmr([math.nan if v is None else v for v in values], improvement="increase",
                    rebase_at=list(rebase_at))
    return Measure(key, title, unit, tuple(values), tuple(reasons), chart)


def _engagement(point: WavePoint, items: Sequence[tuple[str, str]],
                threshold: int) -> tuple[float | None, str | None]:
    """A shown wave's engagement score, or None with why it is hidden.

    Each group's score is a mean over its scored answers, so each group's
    scored answers in the wave must reach ``threshold``, as a single measure's
    must: otherwise the score could rest on one or two people's answers.
    """
    rows = [point.items.get(item_id) for item_id, _ in items]
    groups = [group for _, group in items]
    asked = dict.fromkeys(ENGAGEMENT_GROUPS, 0)
    scored = dict.fromkeys(ENGAGEMENT_GROUPS, 0)
    for row, group in zip(rows, groups, strict=True):
        if row is not None:
            asked[group] += row.shown
            scored[group] += row.scored
    if not all(asked.values()):
        return None, NOT_ALL_ASKED
    if min(scored.values()) < threshold:
        return None, TOO_FEW_ANSWERS
    score = engagement_of([row.score_sum if row else 0.0 for row in rows],
                          [row.scored if row else 0 for row in rows], groups)
    return (score, None) if score is not None else (None, NO_ANSWERS)


def _rebase_candidates(series: Sequence[WavePoint],
                       measures: Sequence[Measure]) -> tuple[RebaseCandidate, ...]:
    found: dict[int, list[str]] = {}
    for measure in measures:
        chart = measure.chart
        if chart is None:
            continue
        for i in range(1, len(series)):
            rule = chart.rule[i]
            starts_segment = chart.segment[i] != chart.segment[i - 1]
            if rule in SUSTAINED_RULES and not starts_segment:
                found.setdefault(i, []).append(f"{measure.title}: {SUSTAINED_RULES[rule]}")
    return tuple(RebaseCandidate(series[i].wave_id, series[i].label, tuple(reasons))
                 for i, reasons in sorted(found.items()))


# --------------------------------------------------------------------------- actions


def _place_actions(session: Session, series: Sequence[WavePoint],
                   rows: Sequence[TeamAction]) -> tuple[PlacedAction, ...]:
    """Each action at the first wave whose dates contain or follow its date."""
    closes: dict[int, date] = {}
    if series:
        closes = {
            wave_id or 0: as_utc(closes_at).astimezone(LONDON).date()
            for wave_id, closes_at in session.exec(
                select(Wave.id, Wave.closes_at)
                .where(col(Wave.id).in_([w.wave_id for w in series])))
        }
    placed = []
    for number, action in enumerate(rows, start=1):
        at = next((i for i, w in enumerate(series) if closes[w.wave_id] >= action.taken_on),
                  None)
        placed.append(PlacedAction(action, f"A{number}", at))
    return tuple(placed)


# --------------------------------------------------------------------------- heatmap


def _windows(series: Sequence[WavePoint]) -> list[list[int]]:
    """Positions of the waves pooled in each heatmap column: complete windows only.

    Windows are fixed from the team's first closed wave (positions 0-2, 3-5,
    6-8, ...), so a column, once shown, never changes as more waves close.
    Anchored at the latest wave instead, every window would slide by one each
    month, and last month's columns beside this month's would give one wave's
    answers away by subtraction, however few.  For the same reason windows do
    not overlap, a trailing window is not shown until all its waves have
    closed, and when there are more than :data:`MAX_WINDOWS` complete windows
    the oldest are dropped whole.
    """
    complete = len(series) // WINDOW
    first = max(0, complete - MAX_WINDOWS)
    return [list(range(WINDOW * k, WINDOW * (k + 1))) for k in range(first, complete)]


def _windows_labels(series: Sequence[WavePoint],
                    windows: Sequence[Sequence[int]]) -> tuple[str, ...]:
    labels = []
    for window in windows:
        first, last = series[window[0]].label, series[window[-1]].label
        labels.append(first if first == last else f"{first} to {last}")
    return tuple(labels)


def _heatmap(series: Sequence[WavePoint], windows: Sequence[Sequence[int]],
             hidden: Sequence[str | None], instrument: Instrument,
             threshold: int) -> tuple[HeatmapRow, ...]:
    rows = []
    for item in instrument.pool_items:
        cells = []
        for window in windows:
            # A wave hidden as a whole lends none of its answers to a pooled cell.
            shown = [series[i].items.get(item.id) for i in window if hidden[i] is None]
            # The mean is over scored answers (Don't know is not scored), so they are
            # what must reach the threshold.
            scored = sum(row.scored for row in shown if row)
            total = sum(row.score_sum for row in shown if row)
            if scored == 0:
                cells.append(HeatmapCell(None, NO_ANSWERS))
            elif scored < threshold:
                cells.append(HeatmapCell(None, TOO_FEW_ANSWERS))
            else:
                cells.append(HeatmapCell(total / scored, None))
        rows.append(HeatmapRow(item.id, item.text, tuple(cells)))
    return tuple(rows)


# --------------------------------------------------------------------------- fatigue


def _fatigue_rows(series: Sequence[WavePoint],
                  hidden: Sequence[str | None]) -> tuple[FatigueRow, ...]:
    rows = []
    for point, reason in zip(series, hidden, strict=True):
        shown = sum(row.shown for row in point.items.values())
        answered = sum(row.answered for row in point.items.values())
        rows.append(FatigueRow(
            label=point.label,
            invited=None if reason else point.invited,
            responded=None if reason else point.responded,
            response_rate=_response_rate(point, reason),
            blank_share=None if reason or not shown else 100 * (shown - answered) / shown,
            median_seconds=None if reason else point.median_completion_seconds,
            hidden_reason=reason,
        ))
    return tuple(rows)




def _fatigue_words(fatigue: FatigueAssessment) -> FatigueWords:
    """The judgement's sentences with their p-values moved to ``statistics``.

    The response rate's p-value is the one :func:`response_trend` words (the test in
    the direction the rate moved), so this page and the overview agree.
    """
    reasons = [plain_reason(reason)[0] for reason in fatigue.reasons]
    trend = response_trend(fatigue)
    statistics = []
    for indicator in fatigue.trends:
        name = FATIGUE_INDICATOR_NAMES.get(indicator.name, indicator.name)
        p_value = trend.p_value if indicator.name == "response_rate" else indicator.p_value
        statistics.append(f"{name}: {p_value_words(p_value)} over {indicator.n_waves} pulses")
    if statistics:
        statistics.append(f"Each indicator is tested one-sided at the "
                          f"{fatigue.alpha_per_indicator:.2g} level (0.05 shared by "
                          f"{len(FATIGUE_INDICATOR_NAMES)}), so that chance alone rarely "
                          "raises a flag.")
    return FatigueWords(trend, tuple(reasons), tuple(statistics))


# --------------------------------------------------------------------------- comments


def _comments(session: Session, series: Sequence[WavePoint], hidden: Sequence[str | None],
              instrument: Instrument, threshold: int, rng: random.Random) -> Comments:
    """The comments of the latest wave the one rule shows that has ``threshold`` answers."""
    questions = [item for item in instrument.items if item.kind == "text"]

    # A hidden wave (either reason) shows no comment, however many answered it.
    allowed = [reason is None and point.responded >= threshold
               for point, reason in zip(series, hidden, strict=True)]
    latest_hidden = bool(series) and not allowed[-1]
    # The rule's reason, when it hides the wave; None when only comments need more answers.
    latest_reason = hidden[-1] if series else None
    wave = next((series[i] for i in reversed(range(len(series))) if allowed[i]), None)
    if wave is None or not questions:
        return Comments(False, latest_hidden, (), latest_reason)
    texts: dict[str, list[str]] = {item.id: [] for item in questions}
    for item_id, text in session.exec(
        select(ItemAnswer.item_id, ItemAnswer.text)
        .join(Response, col(Response.id) == col(ItemAnswer.response_id))
        .where(Response.wave_id == wave.wave_id,
               col(ItemAnswer.item_id).in_(list(texts)),
               col(ItemAnswer.text).is_not(None))
    ):
        if text and text.strip():
            texts[item_id].append(text.strip())
    for answers in texts.values():
        # Shuffled on every render: stored order could follow the order people answered.
        rng.shuffle(answers)
    return Comments(True, latest_hidden,
                    tuple((item.text, tuple(texts[item.id])) for item in questions),
                    latest_reason)
