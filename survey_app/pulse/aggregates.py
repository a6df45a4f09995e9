"""Summarise a closed wave into per-item aggregates (see :mod:`survey_app.models.reporting`).

Written once, at close, from the wave's anonymous responses and its own
instrument version; re-running replaces the previous summary, so it is safe
to call again (the demo and repairs do).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, insert
from sqlmodel import Session, col, func, select

from survey_app.core.instruments import instrument_of
from survey_app.models import (
    Invitation,
    ItemAnswer,
    ItemTotals,
    QuestionnaireVersion,
    Response,
    Wave,
    WaveChoiceCount,
    WaveItemSummary,
    WaveSummary,
)


def summarise_wave(session: Session, *, wave: Wave, now: datetime) -> WaveSummary:
    """Compute and store the wave's summary, replacing any earlier one."""
    version = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    assert version is not None and wave.id is not None  # nosec B101  # narrows a type for mypy
    instrument = instrument_of(version)
    shown: Counter[str] = Counter()
    completion: list[int] = []
    responses = session.exec(
        select(Response.items_shown, Response.completion_seconds)
        .where(Response.wave_id == wave.id)
    ).all()
    for items_shown, seconds in responses:
        shown.update(json.loads(items_shown))
        if seconds is not None:
            completion.append(seconds)
    items: dict[str, ItemTotals] = defaultdict(ItemTotals)
    choices: Counter[tuple[str, str]] = Counter()
    for item_id, choice, text in session.exec(
        select(ItemAnswer.item_id, ItemAnswer.choice, ItemAnswer.text)
        .join(Response, col(Response.id) == col(ItemAnswer.response_id))
        .where(Response.wave_id == wave.id)
    ).all():
        summary = items[item_id]
        summary.answered += 1
        if text is not None:
            summary.text_length_sum += len(text)
            continue
        if choice is None:
            continue
        item = instrument.item(item_id)
        choices[(item_id, choice)] += 1
        summary.dont_know += choice == "dont_know"
        summary.positive += choice in item.positive
        summary.negative += choice in item.negative
        score = item.score(choice)
        if score is not None:
            summary.scored += 1
            summary.score_sum += score
            summary.score_sq_sum += score * score
    for table in (WaveItemSummary, WaveChoiceCount, WaveSummary):
        session.execute(delete(table).where(col(table.wave_id) == wave.id))
    rows = []
    for item_id in sorted(set(shown) | set(items)):
        totals = items[item_id]
        totals.shown = shown[item_id]
        rows.append({"wave_id": wave.id, "item_id": item_id, **asdict(totals)})
    if rows:
        session.execute(insert(WaveItemSummary), rows)
    if choices:
        session.execute(insert(WaveChoiceCount), [
            {"wave_id": wave.id, "item_id": item_id, "choice": choice, "count": count}
            for (item_id, choice), count in sorted(choices.items())])
    invited = session.exec(select(func.count()).select_from(Invitation)
                           .where(Invitation.wave_id == wave.id)).one()
    result = WaveSummary(wave_id=wave.id, invited=invited, responded=len(responses),
                         median_completion_seconds=statistics.median(completion)
                         if completion else None, summarised_at=now)
    session.add(result)
    session.flush()
    return result


def summarise_unsummarised(session: Session, *, now: datetime) -> int:
    """Summarise every closed wave that has no summary yet; returns how many.

    Waves closed before the aggregates existed (databases migrated past 0005)
    have none, and reports read only summaries. ``flask db upgrade`` runs this.
    A wave whose raw rows retention removed (``raw_purged_at``) is never summarised
    again: from what is left it would count wrong, and once its own aggregates have
    expired it must stay out of the reports.
    """
    missing = session.exec(
        select(Wave).outerjoin(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
        .where(col(Wave.closed_at).is_not(None), col(WaveSummary.wave_id).is_(None),
               col(Wave.raw_purged_at).is_(None))
        .order_by(col(Wave.id))
    ).all()
    for wave in missing:
        summarise_wave(session, wave=wave, now=now)
    return len(missing)
