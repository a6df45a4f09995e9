"""Reading the message log for admins: the development outbox, and what needs attention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from survey_app.core.paging import PAGE_SIZE, Page
from survey_app.models import Message, StaffMember, Team, Wave


def outbox_page(session: Session, *, number: int, size: int = PAGE_SIZE) -> Page[Message]:
    """Development-outbox messages, newest first (bodies included: they are the outbox)."""
    in_outbox = col(Message.channel) == "outbox"
    total = session.exec(select(func.count()).select_from(Message).where(in_outbox)).one()
    items = session.exec(
        select(Message).where(in_outbox)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .offset((number - 1) * size).limit(size)
    ).all()
    return Page(list(items), int(total), number, size)


def needing_attention(session: Session, *, number: int, now: datetime,
                      size: int = PAGE_SIZE) -> Page[Any]:
    """Failed and unknown messages with their wave, team and person, newest first, and
    whether each can be resent (unknown, its pulse still open at ``now``: a resend is
    built afresh, with a new link, when it is sent).

    Named columns only: a body is never read here.
    """
    resendable = and_(col(Message.status) == "unknown",
                      col(Wave.closed_at).is_(None), col(Wave.closes_at) > now)
    needing = col(Message.status).in_(("failed", "unknown"))
    total = session.exec(select(func.count()).select_from(Message).where(needing)).one()
    # Columns added in two steps: the select() overloads stop at ten.
    rows = session.execute(
        sa_select(col(Message.id), col(Message.status), col(Message.kind),
                  col(Message.channel), col(Message.address), col(Message.attempts))
        .add_columns(col(Message.failure_reason), col(Message.created_at), col(Wave.id),
                     col(Team.name), col(StaffMember.name), resendable.label("resendable"))
        .join(Wave, col(Wave.id) == col(Message.wave_id))
        .join(Team, col(Team.id) == col(Wave.team_id))
        .join(StaffMember, col(StaffMember.id) == col(Message.staff_member_id))
        .where(needing)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .offset((number - 1) * size).limit(size)
    ).all()
    return Page(list(rows), int(total), number, size)
