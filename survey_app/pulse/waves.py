"""Opening, closing and counting waves, and the one-time links and codes they hand out."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, and_, col, func, or_, select

from questionnaires import Instrument
from survey_app.core import tokens
from survey_app.core.clock import LONDON, as_utc, local_date
from survey_app.core.instruments import ensure_version
from survey_app.models import (
    Invitation,
    ItemAnswer,
    Message,
    Neighbourhood,
    Response,
    StaffMember,
    Team,
    Wave,
)
from survey_app.pulse import rotation, teams
from survey_app.pulse.aggregates import summarise_wave


class WaveError(ValueError):
    """A wave operation that cannot be done; the message is for the user."""


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A token handed out once: it is printed or sent, never stored in clear."""

    staff_member_id: int
    name: str
    token: str


@dataclass(frozen=True, slots=True)
class OpenedWave:
    wave: Wave
    links: list[IssuedLink]
    skipped_recently_invited: int = 0


@dataclass(frozen=True, slots=True)
class WaveStatus:
    wave_id: int
    team: str
    neighbourhood: str
    opens_at: datetime
    closes_at: datetime
    is_open: bool
    invited: int
    responded: int

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


def is_open(wave: Wave, now: datetime) -> bool:
    return (
        wave.closed_at is None
        and as_utc(wave.opens_at) <= now < as_utc(wave.closes_at)
    )


def open_wave(
    session: Session, *, team: Team, instrument: Instrument, now: datetime, days: int,
    respect_gap: bool = True,
) -> OpenedWave:
    """Open a one-off wave for ``team`` now, inviting each current member once.

    The pool items rotate as in scheduled waves, and (unless ``respect_gap`` is
    False, for a deliberate re-run) people invited to any wave within the
    INT's gap are not invited again.

    Raises
    ------
    WaveError
        If ``days`` is not 1-60, the team has nobody to invite, or already has a
        wave open (two open waves would ask the same people twice).
    """
    if not 1 <= days <= 60:
        raise WaveError("A wave must stay open for between 1 and 60 days.")
    assert team.id is not None  # nosec B101  # narrows a type for mypy
    already = session.exec(
        select(Wave.id).where(Wave.team_id == team.id, col(Wave.closed_at).is_(None),
                              col(Wave.closes_at) > now)
    ).first()
    if already is not None:
        raise WaveError(f"Team '{team.slug}' already has wave {already} open.")
    members = teams.current_members(session, team_id=team.id, on=now.date())
    if not members:
        raise WaveError(f"Team '{team.slug}' has no current members to invite.")
    skipped = 0
    if respect_gap:
        recent = invited_since(session, member_ids=[m.id or 0 for m in members],
                               since=gap_start(session, team=team, now=now))
        skipped = len(recent)
        members = [m for m in members if m.id not in recent]
        if not members:
            raise WaveError(f"Everyone in '{team.slug}' was invited in the last "
                            f"{_gap_days(session, team)} days: not asking them again yet.")
    version = ensure_version(session, instrument=instrument)
    assert version.id is not None  # nosec B101  # narrows a type for mypy
    previous = session.exec(select(func.count()).select_from(Wave)
                            .where(Wave.team_id == team.id)).one()
    pool = [item.id for item in instrument.pool_items]
    wave = Wave(team_id=team.id, questionnaire_version_id=version.id, opens_at=now,
                closes_at=now + timedelta(days=days),
                due_items=json.dumps(rotation.due_items(pool, instrument.rotating_per_pulse,
                                                        previous)))
    session.add(wave)
    session.flush()
    links = [IssuedLink(m.id, m.name, tokens.new_token()) for m in members if m.id is not None]
    session.execute(
        insert(Invitation),
        [
            {"wave_id": wave.id, "staff_member_id": link.staff_member_id,
             "token_hash": tokens.hash_secret(link.token), "used": False}
            for link in links
        ],
    )
    return OpenedWave(wave, links, skipped)


def _gap_days(session: Session, team: Team) -> int:
    neighbourhood = session.get(Neighbourhood, team.neighbourhood_id)
    return neighbourhood.invitation_gap_days if neighbourhood else 21


def gap_start(session: Session, *, team: Team, now: datetime) -> datetime:
    """The start of the fatigue gap, counted in calendar days in England, so a pulse
    every 3 weeks at 09:00 is not refused for an hour across a clock change."""
    first_allowed_day = local_date(now) - timedelta(days=_gap_days(session, team) - 1)
    return datetime.combine(first_allowed_day, time.min, LONDON)


def invited_since(session: Session, *, member_ids: list[int], since: datetime) -> set[int]:
    """Which of these people have an invitation to a wave that opened since ``since``."""
    return set(session.exec(
        select(Invitation.staff_member_id).join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .where(col(Invitation.staff_member_id).in_(member_ids), col(Wave.opens_at) >= since)
    ).all())


def get_wave(session: Session, *, wave_id: int) -> Wave:
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise WaveError(f"No wave {wave_id}.")
    return wave


def wave_status(session: Session, *, wave_id: int, now: datetime) -> WaveStatus:
    """Invited, responded and open/closed for one wave (counts only, never answers)."""
    wave = get_wave(session, wave_id=wave_id)
    team = session.get(Team, wave.team_id)
    assert team is not None  # nosec B101  # narrows a type for mypy
    neighbourhood = session.get(Neighbourhood, team.neighbourhood_id)
    assert neighbourhood is not None  # nosec B101  # narrows a type for mypy
    invited = session.exec(
        select(func.count()).select_from(Invitation).where(Invitation.wave_id == wave_id)
    ).one()
    responded = session.exec(
        select(func.count()).select_from(Response).where(Response.wave_id == wave_id)
    ).one()
    return WaveStatus(
        wave_id=wave_id, team=team.slug, neighbourhood=neighbourhood.slug,
        opens_at=as_utc(wave.opens_at), closes_at=as_utc(wave.closes_at),
        is_open=is_open(wave, now), invited=invited, responded=responded,
    )


def close_wave(session: Session, *, wave: Wave, now: datetime) -> bool:
    """Close a wave: its unused links stop working and its rows lose their order.

    Responses are deleted and re-inserted in a random order, and each invitation
    row is rewritten in a random order in the same transaction, so neither row
    order, keys nor (on PostgreSQL) the tuples' transaction ids and physical
    position still follow the order in which people answered. Returns False if
    the wave was already closed (closing is idempotent).
    """
    if wave.closed_at is not None:
        return False
    wave.closed_at = now
    if as_utc(wave.closes_at) > now:
        wave.closes_at = now
    session.add(wave)
    # Write the close first: it takes the wave's row lock (PostgreSQL) or the
    # database's write lock (SQLite) before the responses are read, so an answer
    # being stored either lands before and is reshuffled, or is refused.
    session.flush()
    _reshuffle_responses(session, wave_id=wave.id)
    _rewrite_invitations(session, wave_id=wave.id)
    # Results are shown only once a wave has closed: summarise it now, once.
    summarise_wave(session, wave=wave, now=now)
    return True


def close_due_waves(session: Session, *, now: datetime) -> list[int]:
    """Close every wave whose window has ended; returns their ids."""
    due = session.exec(
        select(Wave).where(col(Wave.closed_at).is_(None), col(Wave.closes_at) <= now)
    ).all()
    for wave in due:
        close_wave(session, wave=wave, now=now)
    return [wave.id for wave in due if wave.id is not None]


def _reshuffle_responses(session: Session, *, wave_id: int | None) -> None:
    responses = session.exec(select(Response).where(Response.wave_id == wave_id)).all()
    if not responses:
        return
    ids = [r.id for r in responses]
    answers = session.exec(select(ItemAnswer).where(col(ItemAnswer.response_id).in_(ids))).all()
    response_rows = [
        {"id": r.id, "wave_id": r.wave_id, "items_shown": r.items_shown,
         "completion_seconds": r.completion_seconds}
        for r in responses
    ]
    answer_rows = [
        {"response_id": a.response_id, "item_id": a.item_id, "choice": a.choice,
         "text": a.text}
        for a in answers
    ]
    session.expunge_all()
    system_random = random.SystemRandom()
    system_random.shuffle(response_rows)
    system_random.shuffle(answer_rows)
    session.execute(delete(ItemAnswer).where(col(ItemAnswer.response_id).in_(ids)))
    session.execute(delete(Response).where(col(Response.wave_id) == wave_id))
    session.execute(insert(Response), response_rows)
    session.execute(insert(ItemAnswer), answer_rows)


def _rewrite_invitations(session: Session, *, wave_id: int | None) -> None:
    ids = list(session.exec(select(Invitation.id).where(Invitation.wave_id == wave_id)))
    if not ids:
        return
    random.SystemRandom().shuffle(ids)
    # One statement per row, in random order: on PostgreSQL each UPDATE writes a
    # new tuple at the end of the heap, so the table's physical order becomes
    # random instead of following the order in which tokens were spent.
    session.connection().execute(
        update(Invitation)
        .where(col(Invitation.id) == bindparam("invitation_id"))
        .values(used=Invitation.used),
        [{"invitation_id": invitation_id} for invitation_id in ids],
    )


def issue_codes(session: Session, *, wave_id: int, now: datetime,
                unreached: bool = False) -> list[tuple[StaffMember, str]]:
    """New printable codes for the wave's invitees who have no email and no mobile, and
    with ``unreached`` also for those none of whose messages is known to have gone
    (every one failed or unknown).

    Codes already printed for these people stop working (only the newest card
    is valid). Nobody who has answered gets a card.

    Raises
    ------
    WaveError
        If the wave is closed.
    """
    wave = get_wave(session, wave_id=wave_id)
    if not is_open(wave, now):
        raise WaveError(f"Wave {wave_id} is closed: codes can only be made for an open wave.")
    no_address = and_(or_(col(StaffMember.email).is_(None), StaffMember.email == ""),
                      or_(col(StaffMember.mobile).is_(None), StaffMember.mobile == ""))
    messages = select(Message.id).where(col(Message.wave_id) == wave_id,
                                        col(Message.staff_member_id) == col(StaffMember.id))
    not_reached = and_(
        messages.where(col(Message.status).in_(("failed", "unknown"))).exists(),
        ~messages.where(col(Message.status).in_(("sent", "pending", "sending"))).exists(),
    )
    rows = session.exec(
        select(Invitation, StaffMember)
        .join(StaffMember, col(StaffMember.id) == col(Invitation.staff_member_id))
        .where(Invitation.wave_id == wave_id, col(Invitation.used).is_(False))
        .where(or_(no_address, not_reached) if unreached else no_address)
        .order_by(col(StaffMember.name))
    ).all()
    issued = []
    for invitation, member in rows:
        code = tokens.new_code()
        invitation.code_hash = tokens.hash_secret(code)
        session.add(invitation)
        issued.append((member, code))
    session.flush()
    return issued


def reissue_links(session: Session, *, wave_id: int, count: int) -> list[IssuedLink]:
    """Fresh links for up to ``count`` unanswered invitations (the old links stop working)."""
    rows = session.exec(
        select(Invitation, StaffMember)
        .join(StaffMember, col(StaffMember.id) == col(Invitation.staff_member_id))
        .where(Invitation.wave_id == wave_id, col(Invitation.used).is_(False))
        .order_by(col(Invitation.id))
        .limit(count)
    ).all()
    links = []
    for invitation, member in rows:
        token = tokens.new_token()
        invitation.token_hash = tokens.hash_secret(token)
        session.add(invitation)
        assert member.id is not None  # nosec B101  # narrows a type for mypy
        links.append(IssuedLink(member.id, member.name, token))
    session.flush()
    return links
