"""The running programme: one idempotent ``tick(now)`` opens, reminds, closes and sends.

APScheduler calls :func:`tick` every minute in the scheduler process; tests and
operators call it with any ``now``. Whatever is due at ``now`` happens once:
a missed opening (downtime) happens once, late, with quiet hours respected,
and a second scheduler started by mistake finds the lease taken and does
nothing. Unlike the other domain modules, ``tick`` commits as it goes: invitations are
created and messages sent in batches, and each message's state is committed as it is
sent, so a crash leaves at most the one message in flight uncertain ("unknown").

Messages are queued without a body: only their subject, which holds no secret. Each
invitation is created with the hash of a random token that is never revealed, so no
link opens it until dispatch issues the real one as it sends the message (see
:mod:`survey_app.scheduling.dispatch`). People with no email or phone answer with a
printed code instead (``wave codes``).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert
from sqlmodel import Session, col, func, or_, select

from questionnaires import Instrument
from survey_app.core import tokens
from survey_app.core.clock import LONDON, as_utc, utcnow
from survey_app.core.instruments import ensure_version
from survey_app.models import (
    Invitation,
    Message,
    Neighbourhood,
    Schedule,
    StaffMember,
    Team,
    TeamMembership,
    Wave,
)
from survey_app.pulse import erasure, rotation, waves
from survey_app.pulse.waves import close_due_waves
from survey_app.scheduling import lease
from survey_app.scheduling.cadence import Cadence, next_allowed, occurrences, reminder_time
from survey_app.scheduling.channels.routing import Channels
from survey_app.scheduling.channels.templates import invitation_subject, reminder_subject
from survey_app.scheduling.dispatch import UNSUBSCRIBE_SALT as UNSUBSCRIBE_SALT
from survey_app.scheduling.dispatch import AfterSend, DispatchReport, dispatch, quiet_hours_of
from survey_app.scheduling.dispatch import LinkSettings as LinkSettings  # callers use tick's

INVITE_BATCH = 1000
log = logging.getLogger(__name__)


@dataclass
class TickReport:
    acted: bool
    opened: list[int] = field(default_factory=list)
    reminders: int = 0
    closed: list[int] = field(default_factory=list)
    dispatch: DispatchReport = field(default_factory=DispatchReport)

    def summary(self) -> str:
        if not self.acted:
            return "Another scheduler holds the lease: nothing done."
        d = self.dispatch
        return (f"opened {len(self.opened)} wave(s), queued {self.reminders} reminder(s), "
                f"closed {len(self.closed)} wave(s); sent {d.sent}, failed {d.failed}, "
                f"retrying {d.retrying}, deferred by quiet hours {d.deferred}, "
                f"marked unknown {d.marked_unknown}")


def tick(session: Session, *, now: datetime, instrument: Instrument, channels: Channels,
         links: LinkSettings, holder: str, after_send: AfterSend | None = None) -> TickReport:
    """Do everything due at ``now``, once. Returns what was done.

    ``now`` may be simulated (tests, ``scheduler tick --at``); the lease always
    runs on the real clock, so a simulated tick never locks out the live
    scheduler for longer than the lease's few minutes.
    """
    if not lease.acquire(session, holder=holder, now=utcnow()):
        return TickReport(acted=False)
    try:
        report = TickReport(acted=True)
        report.opened = open_due_waves(session, now=now, instrument=instrument,
                                       channels=channels)
        report.reminders = queue_due_reminders(session, now=now, channels=channels)
        report.closed = close_due_waves(session, now=now)
        session.commit()
        # The close rewrote rows; now remove their old versions from the database's
        # files (or retry for an earlier close whose old versions were still held).
        if report.closed:
            erasure.erase_old_versions(erasure.engine_of(session))
        else:
            erasure.erase_if_pending(erasure.engine_of(session), now=now)
        report.dispatch = dispatch(
            session, channels=channels, now=now, after_send=after_send, links=links,
            # Renewed before every batch: a long dispatch keeps its lease, and one
            # that has lost it (a stall past expiry) stops instead of racing.
            still_leased=lambda: lease.acquire(session, holder=holder, now=utcnow()),
        )
        return report
    finally:
        session.rollback()
        lease.release(session, holder=holder, now=utcnow())


# --- opening ------------------------------------------------------------------


def cadence_of(schedule: Schedule) -> Cadence:
    hours, minutes = schedule.send_time.split(":")
    return Cadence(kind=schedule.cadence_kind,  # type: ignore[arg-type]
                   every=schedule.every_weeks or 4, weekday=schedule.weekday,
                   nth=schedule.nth or 1, send_time=time(int(hours), int(minutes)))


def open_due_waves(session: Session, *, now: datetime, instrument: Instrument,
                   channels: Channels) -> list[int]:
    """Open a wave for each schedule occurrence due by ``now``; resume interrupted opens."""
    opened: list[int] = []
    for wave in session.exec(select(Wave).where(col(Wave.invited_all).is_(False))).all():
        _invite_all(session, wave=wave, now=now, channels=channels)
    schedules = session.exec(select(Schedule).where(col(Schedule.active).is_(True))).all()
    for schedule in schedules:
        try:
            opened += _open_for_schedule(session, schedule=schedule, now=now,
                                         instrument=instrument, channels=channels)
        except ValueError:
            # One schedule's bad settings must not stop every other INT's pulses.
            session.rollback()
            log.exception("schedule %s could not be processed; skipped", schedule.id)
    return opened


def _open_for_schedule(session: Session, *, schedule: Schedule, now: datetime,
                       instrument: Instrument, channels: Channels) -> list[int]:
    """Open the schedule's waves if an occurrence is due; returns their ids."""
    after = (as_utc(schedule.last_occurrence) + timedelta(microseconds=1)
             if schedule.last_occurrence else
             datetime.combine(schedule.start_date, time.min, LONDON))
    due = occurrences(cadence_of(schedule), schedule.start_date, schedule.end_date,
                      after, now + timedelta(microseconds=1))
    if not due:
        return []
    # Missed openings (downtime) collapse into one, opened now, late.
    schedule.last_occurrence = due[-1]
    session.add(schedule)
    if now - due[-1] >= timedelta(days=schedule.window_days):
        session.commit()  # its window has passed: too late to ask
        return []
    waves = _create_waves(session, schedule=schedule, now=now, instrument=instrument)
    session.commit()
    for wave in waves:
        _invite_all(session, wave=wave, now=now, channels=channels)
    return [wave.id or 0 for wave in waves]


def _create_waves(session: Session, *, schedule: Schedule, now: datetime,
                  instrument: Instrument) -> list[Wave]:
    version = ensure_version(session, instrument=instrument)
    team_query = select(Team).where(Team.neighbourhood_id == schedule.neighbourhood_id)
    if schedule.team_id is not None:
        team_query = team_query.where(Team.id == schedule.team_id)
    waves = []
    pool = [item.id for item in instrument.pool_items]
    for team in session.exec(team_query.order_by(col(Team.id))).all():
        if _has_open_wave(session, team_id=team.id or 0, now=now):
            continue  # never two open pulses for one team
        previous = session.exec(select(func.count()).select_from(Wave)
                                .where(Wave.team_id == team.id)).one()
        closes_at = now + timedelta(days=schedule.window_days)
        wave = Wave(
            team_id=team.id or 0, questionnaire_version_id=version.id or 0, opens_at=now,
            closes_at=closes_at, schedule_id=schedule.id, invited_all=False,
            reminder_due_at=reminder_time(now, closes_at, quiet_hours_of(schedule))
            if schedule.reminder else None,
            due_items=json.dumps(rotation.due_items(pool, instrument.rotating_per_pulse,
                                                    previous)),
        )
        session.add(wave)
        waves.append(wave)
    session.flush()
    return waves


def _has_open_wave(session: Session, *, team_id: int, now: datetime) -> bool:
    return session.exec(
        select(Wave.id).where(Wave.team_id == team_id, col(Wave.closed_at).is_(None),
                              col(Wave.closes_at) > now)
    ).first() is not None


def _invite_all(session: Session, *, wave: Wave, now: datetime, channels: Channels) -> None:
    """Invite the wave's eligible members in batches, committing each (resumable)."""
    team = session.get(Team, wave.team_id)
    neighbourhood = session.get(Neighbourhood, team.neighbourhood_id) if team else None
    schedule = session.get(Schedule, wave.schedule_id) if wave.schedule_id else None
    if team is None or neighbourhood is None:
        return
    quiet = quiet_hours_of(schedule)
    send_at = next_allowed(now, quiet)
    gap_start = waves.gap_start(session, team=team, now=now)
    last_id = 0
    while True:
        members = session.exec(
            select(StaffMember)
            .join(TeamMembership, col(TeamMembership.staff_member_id) == col(StaffMember.id))
            .where(TeamMembership.team_id == team.id, col(StaffMember.id) > last_id)
            .where(or_(col(StaffMember.leave_date).is_(None),
                       col(StaffMember.leave_date) > now.date()))
            .order_by(col(StaffMember.id)).limit(INVITE_BATCH)
        ).all()
        if not members:
            break
        last_id = members[-1].id or 0
        eligible = _eligible(session, wave=wave, members=members, gap_start=gap_start)
        _insert_invitations(session, wave=wave, team=team, members=eligible, channels=channels,
                            send_at=send_at, now=now)
        session.commit()
    wave.invited_all = True
    session.add(wave)
    session.commit()


def _eligible(session: Session, *, wave: Wave, members: Sequence[StaffMember],
              gap_start: datetime) -> list[StaffMember]:
    """Members not yet invited to this wave, nor to any other within the gap, and for
    whom this team is their turn among the teams opening now."""
    ids = [m.id for m in members]
    invited_recently = set(session.exec(
        select(Invitation.staff_member_id).join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .where(col(Invitation.staff_member_id).in_(ids))
        .where(or_(col(Wave.id) == wave.id, col(Wave.opens_at) >= gap_start))
    ).all())
    candidates = [m for m in members if m.id not in invited_recently]
    turn = _team_turns(session, wave=wave, member_ids=[m.id or 0 for m in candidates])
    return [m for m in candidates if turn.get(m.id or 0, wave.team_id) == wave.team_id]


def _team_turns(session: Session, *, wave: Wave, member_ids: list[int]) -> dict[int, int]:
    """For people in several teams opening at the same moment, the one team whose turn
    it is: the team they were invited for least recently (never first), so successive
    windows alternate between their teams."""
    if not member_ids:
        return {}
    opening = set(session.exec(
        select(Wave.team_id).where(Wave.opens_at == wave.opens_at,
                                   Wave.schedule_id == wave.schedule_id)
    ).all())
    if len(opening) < 2:
        return {}
    teams_of: dict[int, list[int]] = defaultdict(list)
    for member_id, team_id in session.exec(
        select(TeamMembership.staff_member_id, TeamMembership.team_id)
        .where(col(TeamMembership.staff_member_id).in_(member_ids))
        .where(col(TeamMembership.team_id).in_(opening))
    ).all():
        teams_of[member_id].append(team_id)
    last_invited: dict[tuple[int, int], datetime] = {}
    for member_id, team_id, opened in session.exec(
        select(Invitation.staff_member_id, Wave.team_id, func.max(Wave.opens_at))
        .join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .where(col(Invitation.staff_member_id).in_(member_ids))
        .group_by(col(Invitation.staff_member_id), col(Wave.team_id))
    ).all():
        last_invited[(member_id, team_id)] = as_utc(opened)
    never = datetime.min.replace(tzinfo=LONDON)
    return {
        member_id: min(teams, key=lambda t: (last_invited.get((member_id, t), never), t))
        for member_id, teams in teams_of.items() if len(teams) > 1
    }


def _insert_invitations(session: Session, *, wave: Wave, team: Team,
                        members: Sequence[StaffMember], channels: Channels,
                        send_at: datetime, now: datetime) -> None:
    if not members:
        return
    invitations, messages = [], []
    subject = invitation_subject(team.name)
    for member in members:
        # A token nobody is ever given: the link that opens this invitation is issued
        # when its message is sent (dispatch); people with no email or phone get a
        # printed code card instead (`wave codes`).
        invitations.append({"wave_id": wave.id, "staff_member_id": member.id,
                            "token_hash": tokens.hash_secret(tokens.new_token()), "used": False})
        route = channels.route(email=member.email, mobile=member.mobile)
        if route is None:
            continue
        messages.append(_message_row(wave, member, route, "invitation", subject, send_at, now))
    session.execute(insert(Invitation), invitations)
    if messages:
        session.execute(insert(Message), messages)


def _message_row(wave: Wave, member: StaffMember, route: tuple[str, str], kind: str,
                 subject: str, send_at: datetime, now: datetime) -> dict[str, object]:
    """A queued message: no body, which dispatch builds (with its link) as it sends."""
    channel, address = route
    return {
        "wave_id": wave.id, "staff_member_id": member.id, "kind": kind, "channel": channel,
        "address": address, "status": "pending", "attempts": 0, "due_at": send_at,
        "subject": subject[:200], "body_text": None, "body_html": None, "created_at": now,
    }


# --- reminding ----------------------------------------------------------------


def queue_due_reminders(session: Session, *, now: datetime, channels: Channels) -> int:
    """Queue the one reminder of each wave whose time has come: only to people who
    have not answered, have not opted out, and are under the message cap."""
    queued = 0
    due = session.exec(
        select(Wave).where(col(Wave.reminder_due_at) <= now, col(Wave.reminders_queued).is_(False),
                           col(Wave.closed_at).is_(None), col(Wave.closes_at) > now)
    ).all()
    for wave in due:
        team = session.get(Team, wave.team_id)
        neighbourhood = session.get(Neighbourhood, team.neighbourhood_id) if team else None
        if team is None or neighbourhood is None:
            continue
        schedule = session.get(Schedule, wave.schedule_id) if wave.schedule_id else None
        send_at = next_allowed(now, quiet_hours_of(schedule))
        counts = dict(session.exec(
            select(Message.staff_member_id, func.count()).where(Message.wave_id == wave.id)
            .group_by(col(Message.staff_member_id))
        ).all())
        rows = session.exec(
            select(Invitation, StaffMember)
            .join(StaffMember, col(StaffMember.id) == col(Invitation.staff_member_id))
            .where(Invitation.wave_id == wave.id, col(Invitation.used).is_(False),
                   col(StaffMember.reminders_opt_out).is_(False))
        ).all()
        messages = []
        subject = reminder_subject(team.name, wave.closes_at)
        for _invitation, member in rows:
            if counts.get(member.id or 0, 0) >= neighbourhood.max_messages_per_wave:
                continue
            route = channels.route(email=member.email, mobile=member.mobile)
            if route is None:
                continue
            # Its link (the invitation's reminder_token_hash) is issued when it is sent.
            messages.append(_message_row(wave, member, route, "reminder", subject, send_at,
                                         now))
        if messages:
            session.execute(insert(Message), messages)
        wave.reminders_queued = True
        session.add(wave)
        session.commit()
        queued += len(messages)
    return queued


def member_from_unsubscribe(session: Session, *, secret_key: str,
                            signed: str) -> StaffMember | None:
    """The staff member an unsubscribe link names, or None if it was altered."""
    member_id = read_unsubscribe(secret_key, signed)
    return session.get(StaffMember, member_id) if member_id is not None else None


def opt_out_of_reminders(session: Session, *, member: StaffMember) -> None:
    member.reminders_opt_out = True
    session.add(member)


def read_unsubscribe(secret_key: str, signed: str) -> int | None:
    """The staff member id in an unsubscribe link, or None if it was altered."""
    try:
        value = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(signed)
    except BadSignature:
        return None
    # A row id is a positive 32-bit integer; anything else (only forgeable with the
    # secret key) names nobody, rather than failing the lookup on PostgreSQL.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        return None
    return value

