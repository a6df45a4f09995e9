"""One scheduler at a time: a lease row in the database that a tick must hold.

Works the same on SQLite and PostgreSQL: the conditional UPDATE only succeeds
for the current holder or once the lease has expired, and concurrent callers
are serialised by the row lock (PostgreSQL) or the single writer (SQLite).

The lease also records the holder's process: the machine's boot id
(/proc/sys/kernel/random/boot_id), its pid namespace, its pid and the start time
of that pid (/proc/<pid>/stat field 22). A scheduler that crashes and is restarted
on the same machine (same boot, same pid namespace) takes the lease over at once
when that pid is no longer running with that start time: the holder is provably
gone. Otherwise (another machine or container, a holder still running, nothing
recorded, no /proc) it waits for the lease to expire, as it always did.

Unlike the other domain modules, which leave committing to their caller, these
functions commit themselves: a lease is only held once other schedulers can see it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from survey_app.models import SchedulerLease

LEASE = "programme"
DEFAULT_TTL = timedelta(minutes=5)
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessIdentity:
    """A process, told apart from any later one that reuses its pid."""

    boot_id: str
    pid_namespace: str
    pid: int
    started: int  # clock ticks after boot


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def start_time(pid: int) -> int | None:
    """When ``pid`` started (field 22 of /proc/<pid>/stat), or None if unreadable."""
    stat = _read(PROC / str(pid) / "stat")
    if stat is None:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ")".
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[22 - 3])  # fields[0] is field 3, the state
    except (IndexError, ValueError):
        return None


def this_process() -> ProcessIdentity | None:
    """This process's identity, or None where /proc cannot give it."""
    boot_id = _read(PROC / "sys" / "kernel" / "random" / "boot_id")
    try:
        namespace = os.readlink(PROC / "self" / "ns" / "pid")
    except OSError:
        return None
    pid = os.getpid()
    started = start_time(pid)
    if boot_id is None or started is None:
        return None
    return ProcessIdentity(boot_id=boot_id[:36], pid_namespace=namespace[:40], pid=pid,
                           started=started)


def is_running(pid: int, started: int) -> bool:
    """False only if ``pid`` is provably not the process that started at ``started``.

    Any doubt (no permission to look, say) counts as running.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False  # no such process
    except PermissionError:
        pass  # it exists, under another user
    if not (PROC / "self").exists():
        return True
    stat = _read(PROC / str(pid) / "stat")
    if stat is None:
        return True  # hidden from us (hidepid), or gone this instant: wait for the expiry
    state = stat.rpartition(")")[2].split()[:1]
    if state == ["Z"]:
        return False  # exited, not yet reaped: it sends nothing more
    now_started = start_time(pid)
    return now_started is None or now_started == started


def _holder_values(holder: str, now: datetime, ttl: timedelta,
                   process: ProcessIdentity | None) -> dict[str, object]:
    return {
        "holder": holder, "expires_at": now + ttl,
        "boot_id": process.boot_id if process else None,
        "pid_namespace": process.pid_namespace if process else None,
        "pid": process.pid if process else None,
        "pid_started": process.started if process else None,
    }


def _holder_is_gone(row: SchedulerLease, me: ProcessIdentity | None) -> bool:
    """True only when the recorded holder is provably no longer running."""
    if me is None or row.pid is None or row.pid <= 0 or row.pid_started is None:
        return False
    if row.boot_id != me.boot_id or row.pid_namespace != me.pid_namespace:
        return False  # another machine, boot or container: its pids are not ours to see
    if (row.pid, row.pid_started) == (me.pid, me.started):
        return False  # this very process (under another holder name) holds it
    return not is_running(row.pid, row.pid_started)


def acquire(session: Session, *, holder: str, now: datetime,
            ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take or renew the lease; True if ``holder`` now holds it. Commits.

    The holder is recorded as running in this process.
    """
    me = this_process()
    values = _holder_values(holder, now, ttl, me)
    try:
        with session.begin_nested():
            session.execute(insert(SchedulerLease).values(name=LEASE, **values))
        session.commit()
        return True
    except IntegrityError:
        pass  # someone created it first: take it below if it is free
    taken = session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == LEASE)
        .where((col(SchedulerLease.holder) == holder) | (col(SchedulerLease.expires_at) < now))
        .values(**values)
    )
    session.commit()
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return True
    return _take_over_from_the_gone(session, me=me, values=values)


def _take_over_from_the_gone(session: Session, *, me: ProcessIdentity | None,
                             values: dict[str, object]) -> bool:
    """Take an unexpired lease whose holder is provably gone. Commits."""
    row = session.get(SchedulerLease, LEASE, populate_existing=True)
    if row is None or not _holder_is_gone(row, me):
        session.rollback()
        return False
    # Only if nobody has taken it meanwhile: the row must still name the dead holder.
    taken = session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == LEASE, col(SchedulerLease.holder) == row.holder,
               col(SchedulerLease.pid) == row.pid,
               col(SchedulerLease.pid_started) == row.pid_started,
               col(SchedulerLease.boot_id) == row.boot_id)
        .values(**values)
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
