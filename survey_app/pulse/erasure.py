"""Erase the old row versions a wave close leaves behind in the database's own files.

Closing a wave (:func:`survey_app.pulse.waves.close_wave`) rewrites its responses,
answers and invitations so that nothing stored links a person to their answers.
The rows it replaces do not vanish at once, though:

- PostgreSQL keeps them as dead tuples, each with the transaction id (``xmin``)
  of the person's answer, until ``VACUUM`` removes them;
- SQLite (with ``secure_delete`` on, so freed space in the database file is
  zeroed) keeps page images of every answer, in answering order, in its WAL file
  until a checkpoint empties it.

:func:`erase_old_versions` runs straight after a close commits: a plain ``VACUUM``
of the rewritten tables on PostgreSQL (never ``FULL``: no exclusive lock), or
``PRAGMA wal_checkpoint(TRUNCATE)`` on SQLite, each on a connection of its own in
autocommit, outside any transaction. Neither can remove what an older transaction
elsewhere can still see, so :func:`erase_if_pending`, called on every scheduler
tick, tries again while a wave closed in the last :data:`RETRY_WINDOW`, and only
when something may be left (PostgreSQL: the tables' dead-tuple counts; SQLite: the
WAL has frames), which keeps an idle tick to one or two cheap queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from survey_app.models import Invitation, ItemAnswer, Response, Wave

log = logging.getLogger(__name__)

# What close_wave deletes or rewrites (answers first: they reference responses).
TABLES = (ItemAnswer.__tablename__, Response.__tablename__, Invitation.__tablename__)
# How long after a close the tick keeps checking that its old versions are gone.
RETRY_WINDOW = timedelta(days=3)
# A SQLite checkpoint waits this long for readers of older snapshots, then gives up
# until the next tick (it holds up writers while it waits).
SQLITE_CHECKPOINT_WAIT_MS = 2000


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure step did.

    ``complete`` is False when something may still be held by another
    transaction (the tick tries again); on PostgreSQL it follows the dead-tuple
    counts, which may lag, so it can err towards False, never towards True
    when VACUUM reported dead tuples it could not remove.
    """

    backend: str
    complete: bool


def _table_names(connection: Connection) -> list[str]:
    quote = connection.dialect.identifier_preparer.quote
    return [quote(str(name)) for name in TABLES]


def engine_of(session: Session) -> Engine:
    """The engine behind a session, for a connection of the erasure's own."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def erase_old_versions(engine: Engine) -> Erasure:
    """Remove the old row versions of closed waves' rewritten rows, now.

    Call it after the close has committed and with no transaction of the caller's
    still open on the database (it could hold the very rows back). A database
    error is logged, not raised: the close stands, and the tick retries.
    """
    try:
        return _erase(engine)
    except SQLAlchemyError as error:
        log.warning("erasing old row versions failed (%s); the scheduler retries",
                    type(error).__name__)
        return Erasure(engine.dialect.name, complete=False)


def _erase(engine: Engine) -> Erasure:
    with engine.connect() as raw:
        connection = raw.execution_options(isolation_level="AUTOCOMMIT")
        backend = connection.dialect.name
        if backend == "postgresql":
            complete = _vacuum(connection, tables=_table_names(connection))
        elif backend == "sqlite":
            complete = _checkpoint(connection)
        else:  # nothing known to do elsewhere
            complete = True
    if not complete:
        log.warning("old row versions of a closed wave are still held by another "
                    "transaction (%s); the scheduler retries", backend)
    return Erasure(backend, complete)


def erase_if_pending(engine: Engine, *, now: datetime) -> Erasure | None:
    """On a tick: erase again if a wave closed within :data:`RETRY_WINDOW` and old
    versions may remain. Returns None when there was nothing to do."""
    try:
        return _erase_if_pending(engine, now=now)
    except SQLAlchemyError as error:
        log.warning("erasing old row versions failed (%s); the next tick retries",
                    type(error).__name__)
        return Erasure(engine.dialect.name, complete=False)


def _erase_if_pending(engine: Engine, *, now: datetime) -> Erasure | None:
    with engine.connect() as raw:
        connection = raw.execution_options(isolation_level="AUTOCOMMIT")
        recent = connection.execute(
            select(Wave.id).where(col(Wave.closed_at) >= now - RETRY_WINDOW).limit(1)
        ).first()
        if recent is None:
            return None
        backend = connection.dialect.name
        if backend == "postgresql":
            tables = [name for name in _table_names(connection)
                      if _dead_tuples(connection, name) > 0]
            if not tables:
                return None
            complete = _vacuum(connection, tables=tables)
        elif backend == "sqlite":
            if not _wal_has_frames(connection):
                return None
            complete = _checkpoint(connection)
        else:
            return None
    return Erasure(backend, complete)


def _dead_tuples(connection: Connection, table: str) -> int:
    count = connection.execute(text("SELECT pg_stat_get_dead_tuples(to_regclass(:table))"),
                               {"table": table}).scalar()
    return int(count or 0)


def _vacuum(connection: Connection, *, tables: list[str]) -> bool:
    """A plain VACUUM (SKIP_LOCKED: never wait behind a migration; the tick retries)."""
    connection.execute(text(f"VACUUM (SKIP_LOCKED) {', '.join(tables)}"))
    return all(_dead_tuples(connection, name) == 0 for name in tables)


def _wal_has_frames(connection: Connection) -> bool:
    row = connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).first()
    # (busy, frames in the WAL, frames checkpointed); -1 frames: not in WAL mode.
    return row is not None and int(row[1]) > 0


def _checkpoint(connection: Connection) -> bool:
    """Copy the WAL into the database file and truncate it to nothing."""
    wait = connection.execute(text("PRAGMA busy_timeout")).scalar()
    connection.execute(text(f"PRAGMA busy_timeout={SQLITE_CHECKPOINT_WAIT_MS}"))
    try:
        row = connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    finally:
        connection.execute(text(f"PRAGMA busy_timeout={int(wait or 0)}"))
    return row is not None and int(row[0]) == 0
