"""Remove what each INT's retention periods no longer allow Pulse to keep.

Each kind of data in :data:`survey_app.core.retention_policy.KINDS` is one or more
*steps*: a table and the query naming its rows that are past their period. A run
either counts those rows (:func:`due`, for ``--dry-run``) or deletes them a batch at a
time (:func:`purge`), committing each batch, so a long purge never holds one huge
transaction and a crash loses at most the batch in flight; running again carries on
where it stopped (the queries find only what is left).

A wave whose raw rows are removed is marked (``Wave.raw_purged_at``), so neither
``db upgrade`` nor a repair re-summarises it from what is left: its aggregates keep
its points on the charts until their own period ends, and then the wave goes from
every report (reports read only aggregates).

The audit log belongs to no one INT: its period is ``PULSE_RETAIN_AUDIT_DAYS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, delete, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, func, select

from survey_app.core import audit
from survey_app.core.clock import local_date
from survey_app.models import (
    ActivationRating,
    AuditEvent,
    ExperienceRating,
    Invitation,
    ItemAnswer,
    Message,
    Neighbourhood,
    Response,
    Site,
    StaffMember,
    Team,
    Wave,
    WaveChoiceCount,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.pulse import erasure

#: Rows deleted per transaction.
BATCH_SIZE: Final = 5000
#: The audit log's "INT" in reports: it is kept for all of them at once.
ALL_INTS: Final = "(all INTs)"
AUDIT_KIND: Final = "audit"


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Rows dated at or before these moments are past their period."""

    moment: datetime  # for rows counted from a wave's close or an audit event
    day: date         # for rows counted from a day (a rating, a leave date)


@dataclass(frozen=True, slots=True)
class Step:
    """One table's rows of one kind: ``rows`` selects the primary keys of those past
    ``cutoff`` in the INT ``neighbourhood_id`` (None: the audit log)."""

    table: type[SQLModel]
    rows: Callable[[int | None, Cutoff], Select[Any]]

    def keys(self) -> list[Any]:
        return _primary_key(self.table)


@dataclass(frozen=True, slots=True)
class Target:
    """How many rows of one kind one INT has past their period."""

    neighbourhood: str  # the INT's slug, or ALL_INTS for the audit log
    kind: str           # a retention column name (``retain_answers_days``) or ``audit``
    count: int


@dataclass(slots=True)
class PurgeReport:
    """What one run removed: rows per (INT, kind), and whether it stopped early."""

    removed: dict[tuple[str, str], int] = field(default_factory=dict)
    waves_marked: int = 0
    stopped: bool = False

    @property
    def total(self) -> int:
        return sum(self.removed.values())


# --------------------------------------------------------------------------- the steps


def _closed_waves(neighbourhood_id: int | None, cutoff: Cutoff) -> Select[Any]:
    """The INT's waves that closed at or before the cutoff."""
    return (select(Wave.id).join(Team, col(Team.id) == col(Wave.team_id))
            .where(col(Team.neighbourhood_id) == neighbourhood_id,
                   col(Wave.closed_at).is_not(None), col(Wave.closed_at) <= cutoff.moment))


def _sites(neighbourhood_id: int | None) -> Select[Any]:
    return select(Site.id).where(col(Site.neighbourhood_id) == neighbourhood_id)


def _answers(neighbourhood_id: int | None, cutoff: Cutoff, *, text: bool) -> Select[Any]:
    """The answers (free text, or chosen options) of the INT's waves past the cutoff."""
    query = (select(ItemAnswer.response_id, ItemAnswer.item_id)
             .join(Response, col(Response.id) == col(ItemAnswer.response_id))
             .where(col(Response.wave_id).in_(_closed_waves(neighbourhood_id, cutoff))))
    return query.where(col(ItemAnswer.text).is_not(None) if text
                       else col(ItemAnswer.text).is_(None))


def _primary_key(table: Any) -> list[Any]:
    return list(table.__table__.primary_key.columns)


def _by_wave(table: Any) -> Step:
    return Step(table, lambda nid, cutoff: sa_select(*_primary_key(table)).where(
        col(table.wave_id).in_(_closed_waves(nid, cutoff))))


def _ratings(table: Any) -> Step:
    return Step(table, lambda nid, cutoff: select(table.id).where(
        col(table.site_id).in_(_sites(nid)), col(table.rated_on) <= cutoff.day))


#: Each kind's steps, children before parents (answers before their responses).
STEPS: Final[dict[str, tuple[Step, ...]]] = {
    "retain_invitations_days": (_by_wave(Invitation),),
    # The development outbox is the messages' channel "outbox": the same rows.
    "retain_messages_days": (_by_wave(Message),),
    "retain_comments_days": (
        Step(ItemAnswer, lambda nid, cutoff: _answers(nid, cutoff, text=True)),),
    # Comments are never kept longer than answers (retention.settings), so by now the
    # comments step has taken the free text: counting it here too would count it twice.
    # (Were one left, deleting its response would still take it: ON DELETE CASCADE.)
    "retain_answers_days": (
        Step(ItemAnswer, lambda nid, cutoff: _answers(nid, cutoff, text=False)),
        _by_wave(Response)),
    "retain_aggregates_days": (_by_wave(WaveChoiceCount), _by_wave(WaveItemSummary),
                               _by_wave(WaveSummary)),
    "retain_ratings_days": (_ratings(ActivationRating), _ratings(ExperienceRating)),
    # Their memberships, invitations and messages go with them (ON DELETE CASCADE).
    "retain_leavers_days": (Step(StaffMember, lambda nid, cutoff: select(StaffMember.id).where(
        col(StaffMember.neighbourhood_id) == nid, col(StaffMember.leave_date).is_not(None),
        col(StaffMember.leave_date) <= cutoff.day)),),
}
AUDIT_STEPS: Final = (Step(AuditEvent, lambda _nid, cutoff: select(AuditEvent.id).where(
    col(AuditEvent.at) <= cutoff.moment)),)
#: The kinds whose removal takes raw rows from a wave, so the wave is marked purged.
WAVE_KINDS: Final = ("retain_invitations_days", "retain_messages_days",
                     "retain_comments_days", "retain_answers_days", "retain_aggregates_days")


def cutoff_for(now: datetime, days: int) -> Cutoff:
    """Rows this many days old or more are due: a period of N days ends N days on."""
    return Cutoff(moment=now - timedelta(days=days), day=local_date(now) - timedelta(days=days))


@dataclass(frozen=True, slots=True)
class _Work:
    neighbourhood: str
    neighbourhood_id: int | None
    kind: str
    cutoff: Cutoff
    steps: tuple[Step, ...]


def _work(session: Session, *, now: datetime, audit_days: int) -> list[_Work]:
    found = []
    for neighbourhood in session.exec(select(Neighbourhood).order_by(col(Neighbourhood.slug))):
        for kind, steps in STEPS.items():
            days = int(getattr(neighbourhood, kind))
            found.append(_Work(neighbourhood.slug, neighbourhood.id, kind,
                               cutoff_for(now, days), steps))
    found.append(_Work(ALL_INTS, None, AUDIT_KIND, cutoff_for(now, audit_days), AUDIT_STEPS))
    return found


def _count(session: Session, step: Step, work: _Work) -> int:
    query = step.rows(work.neighbourhood_id, work.cutoff).subquery()
    return int(session.exec(select(func.count()).select_from(query)).one())


# --------------------------------------------------------------------------- counting


def due(session: Session, *, now: datetime, audit_days: int) -> list[Target]:
    """Every (INT, kind) with rows past their period, and how many; removes nothing."""
    targets = []
    for work in _work(session, now=now, audit_days=audit_days):
        count = sum(_count(session, step, work) for step in work.steps)
        if count:
            targets.append(Target(work.neighbourhood, work.kind, count))
    return targets


# --------------------------------------------------------------------------- removing


def purge(session: Session, *, now: datetime, audit_days: int, batch_size: int = BATCH_SIZE,
          on_batch: Callable[[int], None] | None = None,
          still_leased: Callable[[], bool] | None = None) -> PurgeReport:
    """Remove every row past its period, ``batch_size`` rows per transaction. Commits.

    ``on_batch`` hears how many rows each batch removed (a progress bar);
    ``still_leased``, asked before each batch, stops the run (``stopped``) once it
    says False, as a scheduler that has lost its lease must. Records one audit event
    with the counts, then erases the removed rows' old versions from the database
    files as a wave's close does. Running it again removes only what is left.

    Raises
    ------
    ValueError
        If ``batch_size`` is less than 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    report = PurgeReport()
    for work in _work(session, now=now, audit_days=audit_days):
        for step in work.steps:
            if not _purge_step(session, step, work, report, now=now, batch_size=batch_size,
                               on_batch=on_batch, still_leased=still_leased):
                report.stopped = True
                break
        if report.stopped:
            break
    # What was removed is audited even when the run stopped part way.
    audit.record(session, user_id=None, action="retention.purge", now=now, detail={
        "removed": {f"{slug}/{kind}": count for (slug, kind), count in
                    sorted(report.removed.items())},
        "total": report.total, "stopped": report.stopped})
    session.commit()
    if report.total:
        erasure.erase_old_versions(erasure.engine_of(session))
    return report


def _purge_step(session: Session, step: Step, work: _Work, report: PurgeReport, *,
                now: datetime, batch_size: int, on_batch: Callable[[int], None] | None,
                still_leased: Callable[[], bool] | None) -> bool:
    """Remove one step's rows a batch (and a transaction) at a time; False if the lease
    was lost first."""
    while True:
        if still_leased is not None and not still_leased():
            session.rollback()
            return False
        removed = _delete_batch(session, step, work, batch_size)
        if work.kind in WAVE_KINDS and removed:
            report.waves_marked += _mark_waves(session, work, now)
        session.commit()
        if not removed:
            return True
        key = (work.neighbourhood, work.kind)
        report.removed[key] = report.removed.get(key, 0) + removed
        if on_batch is not None:
            on_batch(removed)


def _delete_batch(session: Session, step: Step, work: _Work, batch_size: int) -> int:
    keys = step.keys()
    rows = session.execute(step.rows(work.neighbourhood_id, work.cutoff)
                           .limit(batch_size)).all()
    if not rows:
        return 0
    if len(keys) == 1:
        condition = keys[0].in_([row[0] for row in rows])
    else:
        condition = tuple_(*keys).in_([tuple(row) for row in rows])
    session.execute(delete(step.table).where(condition))
    return len(rows)


def _mark_waves(session: Session, work: _Work, now: datetime) -> int:
    """Mark the INT's waves past this kind's period as having lost raw rows (once)."""
    result = session.execute(
        update(Wave).where(col(Wave.id).in_(_closed_waves(work.neighbourhood_id, work.cutoff)),
                           col(Wave.raw_purged_at).is_(None))
        .values(raw_purged_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def totals(targets: Iterable[Target]) -> int:
    """All the rows of these targets."""
    return sum(target.count for target in targets)
