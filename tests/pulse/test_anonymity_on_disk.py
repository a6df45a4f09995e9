"""After a wave closes, the database's own files keep no old version of its rewritten rows.

Closing a wave rewrites its responses, answers and invitations (see
test_anonymity.py). These tests look below SQL, at what an attacker with the
database files could read: on SQLite the raw bytes of the database file and its
WAL, on PostgreSQL every tuple of the tables' heap pages (pageinspect), dead
ones included. Before the close's erasure step the old versions are there (the
controls below); after the close, as the tick and `wave close` do it, they must
be gone, also once a transaction that held them back has ended.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine
from survey_app.core.tokens import hash_secret
from survey_app.models import Invitation
from survey_app.scheduling import tick
from survey_app.scheduling.channels.outbox import OutboxChannel
from survey_app.scheduling.channels.routing import Channels

TEAM_SIZE = 30
CHANCE_BOUND = 6  # as in test_anonymity.py: chance pairs about 1 of 30
IN_CI = os.environ.get("CI", "").lower() == "true"
REWRITTEN = ("response", "item_answer", "invitation")


def _marker(invitation_id: int) -> str:
    return f"<ondisk-{invitation_id:06d}>"  # no marker is a substring of another


@pytest.fixture
def answered(app, client, session, open_wave, hidden_fields):
    """A wave everyone answered through the pages, in invitation-id order, each with
    a unique marker in their free text."""
    wave = open_wave(size=TEAM_SIZE)
    invitations = session.exec(
        select(Invitation).where(Invitation.wave_id == wave.wave_id).order_by(Invitation.id)
    ).all()
    truth = {}  # invitation id -> its marker
    for invitation in invitations:
        url = wave.url(invitation.staff_member_id)
        fields = hidden_fields(client.get(url).data)
        marker = _marker(invitation.id)
        result = client.post(url, data={**fields, "recommend_work": "likely",
                                        "one_thing_better": marker})
        assert result.status_code == 303
        truth[invitation.id] = marker
    session.commit()  # end the test session's transaction: it must hold nothing back
    return wave, truth


def _run_tick(app, now):
    with Session(get_engine(app), expire_on_commit=False) as session:
        return tick.tick(session, now=now,
                         instrument=app.extensions["pulse_instruments"]["team-pulse"],
                         channels=Channels(outbox=OutboxChannel()),
                         links=tick.LinkSettings("http://pulse.test", app.config["SECRET_KEY"]),
                         holder="test-on-disk")


def _close(app, runner, wave, how):
    """Close the wave as production does: the scheduler's tick at the end of its
    window, or `wave close` now."""
    if how == "tick":
        report = _run_tick(app, utcnow() + timedelta(days=8))
        assert report.closed == [wave.wave_id]
    else:
        result = runner.invoke(args=["wave", "close", str(wave.wave_id)])
        assert result.exit_code == 0, result.output
        assert f"Wave {wave.wave_id} closed." in result.output


# --- SQLite: the raw bytes of the database file and its WAL --------------------


def _sqlite_files(database_url):
    path = Path(make_url(database_url).database)
    wal = Path(f"{path}-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def _sqlite_only(app):
    if get_engine(app).dialect.name != "sqlite":
        pytest.skip("the SQLite files are read here; PostgreSQL's pages below")


def _assert_sqlite_files_keep_no_old_version(database_url, wave, truth, session):
    database, wal = _sqlite_files(database_url)
    # The WAL was emptied after the close (what the tick wrote since, its lease and
    # messages, may be there), so each answer is found once, in its live row in the
    # database file, never an older copy...
    copies = {marker: (database.count(marker.encode()), wal.count(marker.encode()))
              for marker in truth.values()}
    assert set(copies.values()) == {(1, 0)}, copies
    # ...and where it lies in the file says nothing of who wrote it.
    by_offset = sorted(truth.values(), key=lambda m: database.index(m.encode()))
    correct = sum(truth[i] == m for i, m in zip(sorted(truth), by_offset, strict=True))
    assert correct <= CHANCE_BOUND
    # Each invitation's token hash only in its live row and its unique index: no
    # page image from before it was spent, or from before the close rewrote it.
    hashes = [hash_secret(token) for token in wave.tokens.values()]
    assert {(database.count(h.encode()), wal.count(h.encode())) for h in hashes} == {(2, 0)}


@pytest.mark.parametrize("how", ["tick", "cli"])
def test_sqlite_files_keep_no_old_copy_of_the_answers_after_close(
        app, runner, session, answered, database_url, how):
    _sqlite_only(app)
    wave, truth = answered
    database, wal = _sqlite_files(database_url)
    # The control: before the close, the WAL keeps a copy per commit, in answering order.
    copies = sum((database + wal).count(marker.encode()) for marker in truth.values())
    assert copies > 2 * TEAM_SIZE

    _close(app, runner, wave, how)

    _assert_sqlite_files_keep_no_old_version(database_url, wave, truth, session)


def test_sqlite_a_reader_holding_old_pages_only_delays_the_erasure(
        app, runner, session, answered, database_url):
    _sqlite_only(app)
    wave, truth = answered
    reader = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM response").fetchall()  # a snapshot from before
        now = utcnow() + timedelta(days=8)
        assert _run_tick(app, now).closed == [wave.wave_id]
        assert _sqlite_files(database_url)[1] != b""  # held back: the WAL cannot be emptied
    finally:
        reader.execute("COMMIT")
        reader.close()

    _run_tick(app, now + timedelta(minutes=1))  # the next tick tries again

    _assert_sqlite_files_keep_no_old_version(database_url, wave, truth, session)


# --- PostgreSQL: every tuple of the heap pages, dead ones included -------------


@pytest.fixture
def pageinspect(app):
    engine = get_engine(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("heap pages are a PostgreSQL detail; SQLite's files are read above")
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    except Exception as error:  # noqa: BLE001 (any failure: not a superuser, not installed)
        if IN_CI:
            pytest.fail(f"pageinspect is needed under CI: {type(error).__name__}: {error}")
        pytest.skip(f"pageinspect unavailable: {type(error).__name__}")
    return engine


def _answering_xids(engine):
    """The transaction ids of the answers: before the close, the xmin of each
    response and of each spent invitation."""
    with engine.connect() as connection:
        responses = {row[0] for row in connection.execute(text(
            "SELECT xmin::text FROM response"))}
        invitations = {row[0] for row in connection.execute(text(
            "SELECT xmin::text FROM invitation WHERE used"))}
    assert len(responses) == TEAM_SIZE and invitations == responses  # the linkage itself
    return responses


def _tuples(engine, table):
    """(t_xmin, t_xmax, lp_flags) of every line pointer with a tuple, page by page."""
    found = []
    with engine.connect() as connection:
        pages = connection.execute(text(
            "SELECT pg_relation_size(to_regclass(:t)) / current_setting('block_size')::int"),
            {"t": table}).scalar()
        for page in range(pages):
            found += connection.execute(text(
                "SELECT t_xmin::text, t_xmax::text, lp_flags "
                "FROM heap_page_items(get_raw_page(:t, :page)) WHERE t_xmin IS NOT NULL"),
                {"t": table, "page": page}).all()
        live = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    return found, live


def _old_versions(engine, xids):
    """Per table: tuples written or deleted by an answering transaction, and how many
    tuples there are beyond the live rows."""
    report = {}
    for table in REWRITTEN:
        found, live = _tuples(engine, table)
        linked = [t for t in found if t[0] in xids or t[1] in xids]
        report[table] = (len(linked), len(found) - live)
    return report


@pytest.mark.parametrize("how", ["tick", "cli"])
def test_postgresql_pages_keep_no_dead_tuple_of_the_answers_after_close(
        app, runner, answered, pageinspect, how):
    wave, _ = answered
    xids = _answering_xids(pageinspect)

    _close(app, runner, wave, how)

    assert _old_versions(pageinspect, xids) == {table: (0, 0) for table in REWRITTEN}


def test_postgresql_an_older_snapshot_only_delays_the_vacuum(app, answered, pageinspect):
    wave, _ = answered
    xids = _answering_xids(pageinspect)
    with pageinspect.connect() as holder:
        holder.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        holder.execute(text("SELECT count(*) FROM response")).scalar()  # a snapshot from before
        now = utcnow() + timedelta(days=8)
        assert _run_tick(app, now).closed == [wave.wave_id]
        # The control: while it is held, VACUUM cannot remove the dead tuples, and they
        # still carry the answering transactions' ids.
        held = _old_versions(pageinspect, xids)
        assert all(linked > 0 for linked, _ in held.values()), held
        holder.rollback()

    _run_tick(app, now + timedelta(minutes=1))  # the next tick tries again

    assert _old_versions(pageinspect, xids) == {table: (0, 0) for table in REWRITTEN}
