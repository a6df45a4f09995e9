"""One scheduler at a time: a lease row in the database that a tick must hold.

Works the same on SQLite and PostgreSQL: the conditional UPDATE only succeeds
for the current holder or once the lease has expired, and concurrent callers
are serialised by the row lock (PostgreSQL) or the single writer (SQLite).
A scheduler that crashes simply lets its lease expire.

Unlike the other domain modules, which leave committing to their caller, these
functions commit themselves: a lease is only held once other schedulers can see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from survey_app.models import SchedulerLease

LEASE = "programme"
DEFAULT_TTL = timedelta(minutes=5)


def acquire(session: Session, *, holder: str, now: datetime,
            ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take or renew the lease; True if ``holder`` now holds it. Commits."""
    try:
        with session.begin_nested():
            session.execute(insert(SchedulerLease).values(name=LEASE, holder=holder,
                                                          expires_at=now + ttl))
        session.commit()
        return True
    except IntegrityError:
        pass  # someone created it first: take it below if it is free
    taken = session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == LEASE)
        .where((col(SchedulerLease.holder) == holder) | (col(SchedulerLease.expires_at) < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    session.commit()
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, *, holder: str, now: datetime) -> None:
    """Give the lease up early so the next tick need not wait for it to expire. Commits."""
    session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == LEASE, col(SchedulerLease.holder) == holder)
        .values(expires_at=now)
    )
    session.commit()
