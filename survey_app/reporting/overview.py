"""What an INT lead reads: each team's measures across closed waves, from the aggregates.

Everything statistical is computed by :mod:`analysis`; this module only reads
the per-wave summaries (never raw answers) and hands them over, applying the
suppression threshold before anything is returned.

The summaries are read as plain column tuples rather than ORM objects: building
an ORM instance costs about 50 microseconds, and an INT of 20 teams with three
years of monthly waves has some 10,000 item rows, which would cost half a second
before any statistics ran.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from sqlalchemy import case, func
from sqlalchemy import select as columns_select
from sqlmodel import Session, col, select

from analysis import suppression
from analysis.change import ChangeJudgement, judge_family
from analysis.engagement import engagement_from_totals
from analysis.fatigue import FatigueAssessment, assess_fatigue
from analysis.proportions import ProportionInterval, wilson_interval
from analysis.spc import XmRChart, xmr
from analysis.suppression import suppress_small_groups
from questionnaires import Instrument
from survey_app.core.clock import LONDON, as_utc, local_date
from survey_app.models import (
    ITEM_TALLY_FIELDS,
    Invitation,
    ItemTotals,
    Neighbourhood,
    Team,
    TeamRebase,
    Wave,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.reporting.vocabulary import (
    NO_CLOSED_PULSE_CODE,
    NOT_ALL_ASKED_CODE,
    hidden_reason,
)

ENGAGEMENT_GROUPS = ("motivation", "involvement", "advocacy")
WORK, CARE = "recommend_work", "recommend_care"
CHANGE_MEASURE = "% recommending the team as a place to work"


_ITEM_COLUMNS = (col(WaveItemSummary.wave_id), col(WaveItemSummary.item_id),
                 *(col(getattr(WaveItemSummary, name)) for name in ITEM_TALLY_FIELDS))


@dataclass(frozen=True)
class WavePoint:
    """One closed wave of one team, as counts."""

    wave_id: int
    label: str
    invited: int
    responded: int
    items: dict[str, ItemTotals] = field(repr=False)
    median_completion_seconds: float | None = None
    opens_at: datetime | None = None

    def positive(self, item_id: str) -> tuple[int, int]:
        """(positive answers, all answers incl. Don't know) for an FFT-style item."""
        row = self.items.get(item_id)
        return (row.positive, row.answered) if row else (0, 0)

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None

    @property
    def month(self) -> str:
        """The month the wave opened, in full ("March 2026"), for sentences."""
        if self.opens_at is None:
            return self.label
        return f"{as_utc(self.opens_at).astimezone(LONDON):%B %Y}"


def team_series(session: Session, *, team_id: int) -> list[WavePoint]:
    """The team's closed, summarised waves in the order they opened."""
    return team_series_many(session, team_ids=[team_id])[team_id]


def team_series_many(session: Session, *, team_ids: Sequence[int]) -> dict[int, list[WavePoint]]:
    """:func:`team_series` for many teams in two queries, whatever their number."""
    series: dict[int, list[WavePoint]] = {team_id: [] for team_id in team_ids}
    if not team_ids:
        return series
    closed = (col(Wave.team_id).in_(list(team_ids)), col(Wave.closed_at).is_not(None))
    # Core rows through the connection: the ORM's per-row bookkeeping is most of the time.
    connection = session.connection()
    waves = connection.execute(
        columns_select(col(Wave.id), col(Wave.team_id), col(Wave.opens_at),
                       col(WaveSummary.invited), col(WaveSummary.responded),
                       col(WaveSummary.median_completion_seconds))
        .join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
        .where(*closed).order_by(col(Wave.team_id), col(Wave.opens_at), col(Wave.id))
    ).all()
    items: dict[int, dict[str, ItemTotals]] = {wave_id or 0: {} for wave_id, *_ in waves}
    for row in connection.execute(columns_select(*_ITEM_COLUMNS)
                                  .join(Wave, col(Wave.id) == col(WaveItemSummary.wave_id))
                                  .where(*closed)).tuples().all():
        if row[0] in items:
            items[row[0]][row[1]] = ItemTotals(*row[2:])
    for wave_id, team_id, opens_at, invited, responded, median in waves:
        series[team_id].append(WavePoint(
            wave_id or 0, f"{as_utc(opens_at).astimezone(LONDON):%b %Y}", invited, responded,
            items[wave_id or 0], median, opens_at))
    return series


@dataclass(frozen=True, slots=True)
class OpenWaveProgress:
    """A wave not closed yet: how many of those invited have answered so far, nothing more."""

    wave_id: int
    team_id: int
    opens_at: datetime
    closes_at: datetime
    invited: int
    responded: int

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None

    @property
    def closes_on(self) -> date:
        """The day it closes, in London."""
        return local_date(self.closes_at)


def latest_open_wave(session: Session, *, team_id: int,
                     now: datetime) -> OpenWaveProgress | None:
    """The team's most recently opened wave still open at ``now``, as counts only."""
    waves = open_waves(session, team_ids=[team_id], now=now)[team_id]
    return waves[-1] if waves else None


def open_waves(session: Session, *, team_ids: Sequence[int],
               now: datetime) -> dict[int, list[OpenWaveProgress]]:
    """Each team's waves that have opened by ``now`` and not closed, oldest first.

    Counted from the invitations' ``used`` flags, so no answer is read.
    """
    progress: dict[int, list[OpenWaveProgress]] = {team_id: [] for team_id in team_ids}
    if not team_ids:
        return progress
    rows = session.connection().execute(
        columns_select(col(Wave.id), col(Wave.team_id), col(Wave.opens_at),
                       col(Wave.closes_at), func.count(col(Invitation.id)),
                       func.coalesce(func.sum(case((col(Invitation.used), 1), else_=0)), 0))
        .outerjoin(Invitation, col(Invitation.wave_id) == col(Wave.id))
        .where(col(Wave.team_id).in_(list(team_ids)), col(Wave.closed_at).is_(None),
               col(Wave.opens_at) <= now)
        .group_by(col(Wave.id), col(Wave.team_id), col(Wave.opens_at), col(Wave.closes_at))
        .order_by(col(Wave.opens_at), col(Wave.id))
    ).all()
    for wave_id, team_id, opens_at, closes_at, invited, responded in rows:
        progress[team_id].append(OpenWaveProgress(wave_id or 0, team_id, as_utc(opens_at),
                                                  as_utc(closes_at), int(invited),
                                                  int(responded)))
    return progress


def rebase_positions(session: Session, *,
                     series: dict[int, list[WavePoint]]) -> dict[int, list[int]]:
    """Per team, the positions in its series where a lead restarted the charts."""
    positions: dict[int, list[int]] = {team_id: [] for team_id in series}
    if not series:
        return positions
    rows = session.exec(select(TeamRebase.team_id, TeamRebase.wave_id)
                        .where(col(TeamRebase.team_id).in_(list(series)))).all()
    for team_id, wave_id in rows:
        order = [wave.wave_id for wave in series[team_id]]
        # Position 0 starts the chart anyway; a wave no longer in the series is ignored.
        if wave_id in order and order.index(wave_id) > 0:
            positions[team_id].append(order.index(wave_id))
    return {team_id: sorted(set(found)) for team_id, found in positions.items()}


def wave_hidden_codes(session: Session, *, threshold: int,
                      neighbourhood_id: int | None = None) -> dict[int, str | None]:
    """Why each closed wave's results are hidden (a reason code), or None: the one rule
    every page, download and API response follows.

    A wave with fewer answers than ``threshold`` is hidden. The waves of one INT
    in one calendar month (London) are then one row of
    :func:`analysis.suppression.suppress_small_groups`, teams in name order, so
    when a small team's month is hidden another team's may be too. Totals are
    only ever shown over waves that are not hidden (the ICB view pools only
    those), so nothing hidden can be worked out by subtraction.
    """
    query = (columns_select(col(Wave.id), col(Team.neighbourhood_id), col(Wave.opens_at),
                            col(WaveSummary.responded))
             .join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
             .join(Team, col(Team.id) == col(Wave.team_id))
             .where(col(Wave.closed_at).is_not(None))
             .order_by(col(Team.name), col(Team.id), col(Wave.opens_at)))
    if neighbourhood_id is not None:
        query = query.where(col(Team.neighbourhood_id) == neighbourhood_id)
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for wave_id, int_id, opens_at, responded in session.connection().execute(query):
        month = f"{as_utc(opens_at).astimezone(LONDON):%Y-%m}"
        groups.setdefault((int_id, month), []).append((wave_id, int(responded)))
    codes: dict[int, str | None] = {}
    for peers in groups.values():
        result = suppress_small_groups(np.array([count for _, count in peers]),
                                       threshold=threshold)
        for (wave_id, count), code in zip(peers, result.reason, strict=True):
            # Nobody answered: nothing to show, whatever the threshold.
            codes[wave_id] = code if code is not None or count > 0 else "too_few_answers"
    return codes


# The agreed plain words for a response-rate trend (issue 13): every page says these.
TREND_HEADLINES = {
    "falling": "Falling response rate, unlikely to be chance",
    "rising": "Rising response rate, unlikely to be chance",
    "steady": "No clear trend in response rate",
    "unknown": "Too few pulses to tell a trend in response rate",
}


def p_value_words(p_value: float) -> str:
    """A trend test's p-value as the statistics details print it: "trend test p < 0.001"."""
    return "trend test p < 0.001" if p_value < 0.001 else f"trend test p = {p_value:.3f}"


@dataclass(frozen=True, slots=True)
class ResponseTrend:
    """Which way a team's response rate is heading, from the fatigue assessment."""

    direction: str  # "falling", "rising", "steady" or "unknown" (too few waves)
    start: float
    end: float
    n_waves: int
    p_value: float = math.nan  # the trend test's (NaN: too few waves to test)

    @property
    def headline(self) -> str:
        """The plain words a lead reads first, e.g. "No clear trend in response rate"."""
        return TREND_HEADLINES[self.direction]

    @property
    def span(self) -> str | None:
        """What the trend spans, e.g. "60% to 35% over 12 pulses" (None: too few pulses)."""
        if self.direction == "unknown":
            return None
        return f"{self.start:.0%} to {self.end:.0%} over {self.n_waves} pulses"

    @property
    def statistics(self) -> str | None:
        """The test behind the headline, for the page's details: "trend test p < 0.001"."""
        return None if math.isnan(self.p_value) else p_value_words(self.p_value)

    @property
    def words(self) -> str:
        """The headline and its span in one sentence (the CSV and the API's summary)."""
        return f"{self.headline}: {self.span}" if self.span else self.headline


#: Each fatigue indicator in words, for the overview's and the team page's details.
FATIGUE_INDICATOR_NAMES = {
    "response_rate": "Response rate",
    "item_nonresponse": "Questions left blank",
    "dont_know": "\"Don't know\" answers",
    "free_text_length": "Comment length",
    "completion_time": "Time taken to answer",
}


def response_trend(fatigue: FatigueAssessment) -> ResponseTrend:
    """The response rate's trend in words: only a significant trend counts as one."""
    if not fatigue.trends:
        return ResponseTrend("unknown", math.nan, math.nan, fatigue.n_waves)
    trend = fatigue.trends[0]
    if trend.worsening:
        direction = "falling"
    elif 1.0 - trend.p_value < fatigue.alpha_per_indicator:
        # The mirror of the test for a fall, at the same level.
        direction = "rising"
    else:
        direction = "steady"
    # The test is one-sided towards a fall; a rise's p-value is its mirror, and a steady
    # rate's is the one in whichever direction it moved.
    rose = direction == "rising" or (direction == "steady" and trend.end > trend.start)
    p_value = 1.0 - trend.p_value if rose else trend.p_value
    return ResponseTrend(direction, trend.start, trend.end, trend.n_waves, p_value)


_TREND_STATISTIC = re.compile(r" \(trend (p [<=] [0-9.]+)\)")


def plain_reason(reason: str) -> tuple[str, str | None]:
    """A fatigue reason without its p-value, and the p-value as details words.

    :mod:`analysis.fatigue` writes "Response rate fell from 68% to 32% over 12 pulses
    (trend p < 0.001)."; a lead reads the sentence first and the statistic one click
    away, so this returns ("Response rate fell from 68% to 32% over 12 pulses.",
    "trend test p < 0.001").
    """
    found = _TREND_STATISTIC.search(reason)
    if found is None:
        return reason, None
    return reason[:found.start()] + reason[found.end():], f"trend test {found.group(1)}"


@dataclass(frozen=True, kw_only=True)
class TeamOverview:
    """One team's row. Hidden figures carry a code (``*_hidden_code``, see
    :mod:`survey_app.reporting.vocabulary`); the ``*_hidden_reason`` properties word it."""

    team: Team
    waves: list[WavePoint]
    hidden_code: str | None
    recommend_work: ProportionInterval | None = None
    recommend_care: ProportionInterval | None = None
    engagement: float | None = None
    response_rate: float | None = None
    work_chart: XmRChart | None = None
    fatigue: FatigueAssessment | None = None
    change: ChangeJudgement | None = None
    open_waves: tuple[OpenWaveProgress, ...] = ()
    # A shown team's single measure may still rest on too few answers (items left blank).
    work_hidden_code: str | None = None
    care_hidden_code: str | None = None
    response_trend: ResponseTrend | None = None
    change_sentence: str | None = None
    engagement_hidden_code: str | None = None

    @property
    def hidden_reason(self) -> str | None:
        return hidden_reason(self.hidden_code)

    @property
    def work_hidden_reason(self) -> str | None:
        return hidden_reason(self.work_hidden_code)

    @property
    def care_hidden_reason(self) -> str | None:
        return hidden_reason(self.care_hidden_code)

    @property
    def engagement_hidden_reason(self) -> str | None:
        return hidden_reason(self.engagement_hidden_code)

    @property
    def latest(self) -> WavePoint | None:
        return self.waves[-1] if self.waves else None

    @property
    def variation(self) -> str | None:
        """The latest wave's Making Data Count variation label (None: no chart, or a gap)."""
        return self.work_chart.variation[-1] if self.work_chart else None

    @property
    def assurance(self) -> str | None:
        return self.work_chart.assurance if self.work_chart else None


def int_overview(session: Session, *, neighbourhood: Neighbourhood, instrument: Instrument,
                 threshold: int, now: datetime | None = None) -> list[TeamOverview]:
    """One row per team: the latest closed wave's measures, their trend and verdicts.

    A team whose latest wave has fewer answers than ``threshold`` (or that must
    be hidden so another team cannot be worked out) shows no figures, only why.
    With ``now``, each team's open waves come with their response so far.
    """
    teams = list(session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id)
                              .order_by(col(Team.name), col(Team.id))))
    team_ids = [team.id or 0 for team in teams]
    by_team = team_series_many(session, team_ids=team_ids)
    series = [by_team[team_id] for team_id in team_ids]
    rebases = rebase_positions(session, series=by_team)
    progress = open_waves(session, team_ids=team_ids, now=now) if now else {}
    codes = wave_hidden_codes(session, threshold=threshold, neighbourhood_id=neighbourhood.id)
    reasons = [codes.get(s[-1].wave_id, suppression.TOO_FEW_ANSWERS) if s else None
               for s in series]
    judged = [index for index, s in enumerate(series) if s]
    # A team with no closed wave makes no comparison (nor counts in the family), and
    # judge_family refuses an empty series, so it is left out.
    # Hidden waves count as unanswered: the verdict prints pooled figures, from
    # which a hidden wave's answers could otherwise be worked out.
    shown = [[(0, 0) if codes.get(w.wave_id) else w.positive(WORK) for w in series[i]]
             for i in judged]
    family = judge_family(
        [[positive for positive, _ in counts] for counts in shown],
        [[answered for _, answered in counts] for counts in shown],
        [[w.invited for w in series[i]] for i in judged],
        team_ids=[teams[i].slug for i in judged], min_answers=threshold,
        measure=CHANGE_MEASURE,
    ) if judged else None
    judgements = dict(zip(judged, family.judgements, strict=True)) if family else {}
    rows = []
    for index, (team, waves) in enumerate(zip(teams, series, strict=True)):
        opened = tuple(progress.get(team.id or 0, ()))
        reason = reasons[index]
        if reason is not None or not waves:
            rows.append(TeamOverview(team=team, waves=waves,
                                     hidden_code=reason or NO_CLOSED_PULSE_CODE,
                                     open_waves=opened))
            continue
        latest = waves[-1]
        fatigue = fatigue_of(waves)
        trend = response_trend(fatigue)
        change = judgements.get(index)
        work, work_hidden = _shown_interval(*latest.positive(WORK), threshold)
        care, care_hidden = _shown_interval(*latest.positive(CARE), threshold)
        engagement, engagement_hidden = _engagement(latest, instrument, threshold)
        rows.append(TeamOverview(
            team=team, waves=waves, hidden_code=None,
            recommend_work=work, recommend_care=care, engagement=engagement,
            response_rate=latest.response_rate,
            work_chart=_work_chart(waves, threshold, rebases.get(team.id or 0, [])),
            fatigue=fatigue, change=change, open_waves=opened,
            work_hidden_code=work_hidden, care_hidden_code=care_hidden,
            response_trend=trend,
            change_sentence=change_sentence(change, waves, trend) if change else None,
            engagement_hidden_code=engagement_hidden,
        ))
    return rows


def _shown_interval(positive: int, answered: int,
                    threshold: int) -> tuple[ProportionInterval | None, str | None]:
    if 0 < answered < threshold:
        return None, suppression.TOO_FEW_ANSWERS
    return (wilson_interval(positive, answered) if answered else None), None


def change_sentence(change: ChangeJudgement, waves: Sequence[WavePoint],
                    trend: ResponseTrend) -> str:
    """The change verdict in one plain sentence, e.g. "No credible change since March 2026:
    9 answers, response rate 38% and falling."
    """
    if change.verdict == "too_few_answers" or change.waves_after < 1:
        return change.sentence
    since = waves[len(waves) - change.waves_after].month
    rate = f"response rate {change.response_rate_after:.0%}"
    if trend.direction in ("falling", "rising"):
        rate += f" and {trend.direction}"
    before, after = f"{change.before:.0%}", f"{change.after:.0%}"
    if change.verdict == "no_credible_change":
        return f"No credible change since {since}: {change.n_after} answers, {rate}."
    if change.verdict == "apparent_change":
        return (f"An apparent change since {since} ({before} to {after} would recommend it as "
                f"a place to work), but the response rate went from "
                f"{change.response_rate_before:.0%} to {change.response_rate_after:.0%}, so it "
                "may reflect who answered.")
    word = "improvement" if change.verdict == "improved" else "fall"
    return (f"A credible {word} since {since}: {before} to {after} would recommend it as a "
            f"place to work ({change.n_after} answers, {rate}).")


def engagement_items(instrument: Instrument) -> list[tuple[str, str]]:
    """(item id, group) of the items the engagement score is made of."""
    return [(item.id, str(item.group)) for item in instrument.items
            if item.group in ENGAGEMENT_GROUPS]


def engagement_of(sums: Sequence[float], counts: Sequence[int], groups: Sequence[str],
                  min_per_group: int = 1) -> float | None:
    """Engagement 0-10 from item totals; None when any group (motivation,
    involvement, advocacy) has fewer than ``min_per_group`` scored answers, so a
    score never rests on a group smaller than the suppression threshold."""
    per_group: dict[str, int] = {}
    for group, count in zip(groups, counts, strict=True):
        per_group[group] = per_group.get(group, 0) + count
    if min(per_group.values(), default=0) < max(min_per_group, 1):
        return None
    score = engagement_from_totals(sums, counts, list(groups)).score
    return None if math.isnan(score) else float(score)


def _engagement(wave: WavePoint, instrument: Instrument,
                threshold: int) -> tuple[float | None, str | None]:
    """The wave's engagement score, or None and why not."""
    items = engagement_items(instrument)
    sums = [wave.items[i].score_sum if i in wave.items else 0.0 for i, _ in items]
    counts = [wave.items[i].scored if i in wave.items else 0 for i, _ in items]
    score = engagement_of(sums, counts, [group for _, group in items], threshold)
    if score is not None:
        return score, None
    per_group: dict[str, int] = {}
    for (_, group), count in zip(items, counts, strict=True):
        per_group[group] = per_group.get(group, 0) + count
    return None, (NOT_ALL_ASKED_CODE if min(per_group.values(), default=0) == 0
                  else suppression.TOO_FEW_ANSWERS)


def work_values(waves: Sequence[WavePoint], threshold: int) -> list[float]:
    """% recommending as a place to work per wave; NaN (a gap) below the threshold."""
    values = []
    for wave in waves:
        positive, answered = wave.positive(WORK)
        # A wave below the threshold is a gap: left out of the limits, drawn as a gap.
        values.append(100 * positive / answered if answered >= threshold else math.nan)
    return values


def _work_chart(waves: list[WavePoint], threshold: int,
                rebase_at: Sequence[int] = ()) -> XmRChart | None:
    values = work_values(waves, threshold)
    if sum(not math.isnan(v) for v in values) < 2:
        return None
    return xmr(values, improvement="increase", rebase_at=list(rebase_at))


def fatigue_of(waves: Sequence[WavePoint]) -> FatigueAssessment:
    """The fatigue judgement of a team's closed waves: one rule for every page and the API."""
    def total(name: str) -> list[int]:
        return [sum(getattr(row, name) for row in w.items.values()) for w in waves]

    presented = total("shown")
    answered = total("answered")
    return assess_fatigue(
        [w.responded for w in waves], [w.invited for w in waves],
        items_blank=[p - a for p, a in zip(presented, answered, strict=True)],
        items_presented=presented,
        median_completion_seconds=[w.median_completion_seconds or math.nan for w in waves],
    )
