"""A restarted scheduler takes the lease at once when its holder is provably gone: same
boot, and its pid is not running with the start time it recorded. Otherwise it waits."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine
from survey_app.models import SchedulerLease
from survey_app.scheduling import lease

pytestmark = pytest.mark.skipif(lease.this_process() is None,
                                reason="needs Linux /proc to identify processes")


@pytest.fixture
def lease_session(app):
    with Session(get_engine(app), expire_on_commit=False) as session:
        yield session


def _hold_as(session, holder: str, process: lease.ProcessIdentity | None) -> None:
    """The lease held, unexpired, by ``holder`` running as ``process``."""
    now = utcnow()
    assert lease.acquire(session, holder=holder, now=now)
    values = {"boot_id": None, "pid": None, "pid_started": None, "pid_namespace": None}
    if process is not None:
        values = {"boot_id": process.boot_id, "pid": process.pid,
                  "pid_started": process.started, "pid_namespace": process.pid_namespace}
    session.execute(update(SchedulerLease).values(**values))
    session.commit()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid is gone
    return child.pid


def _holder(session) -> str:
    session.expire_all()
    row = session.get(SchedulerLease, lease.LEASE)
    assert row is not None
    return row.holder


def test_the_lease_records_who_holds_it(lease_session):
    me = lease.this_process()
    assert me is not None
    assert lease.acquire(lease_session, holder="first", now=utcnow())
    row = lease_session.get(SchedulerLease, lease.LEASE)
    assert (row.boot_id, row.pid, row.pid_started, row.pid_namespace) == (
        me.boot_id, me.pid, me.started, me.pid_namespace)
    assert len(me.boot_id) == 36 and me.started > 0
    assert lease.is_running(me.pid, me.started)


def test_a_dead_holder_on_this_boot_is_taken_over_at_once(lease_session):
    me = lease.this_process()
    assert me is not None
    gone = lease.ProcessIdentity(boot_id=me.boot_id, pid=_dead_pid(), started=me.started,
                                 pid_namespace=me.pid_namespace)
    assert not lease.is_running(gone.pid, gone.started)
    _hold_as(lease_session, "crashed-scheduler", gone)
    assert lease.acquire(lease_session, holder="restarted", now=utcnow())
    assert _holder(lease_session) == "restarted"


def test_a_pid_reused_by_another_process_is_taken_over(lease_session):
    me = lease.this_process()
    assert me is not None
    # The recorded pid is running, but it started at another time: not the holder.
    reused = lease.ProcessIdentity(boot_id=me.boot_id, pid=me.pid, started=me.started - 1,
                                   pid_namespace=me.pid_namespace)
    _hold_as(lease_session, "crashed-scheduler", reused)
    assert lease.acquire(lease_session, holder="restarted", now=utcnow())


def test_a_live_foreign_holder_keeps_the_lease(lease_session):
    me = lease.this_process()
    assert me is not None
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = lease.start_time(child.pid)
        assert started is not None
        alive = lease.ProcessIdentity(boot_id=me.boot_id, pid=child.pid, started=started,
                                      pid_namespace=me.pid_namespace)
        _hold_as(lease_session, "live-scheduler", alive)
        assert not lease.acquire(lease_session, holder="second", now=utcnow())
        assert _holder(lease_session) == "live-scheduler"
    finally:
        child.kill()
        child.wait()
    # Once it is gone, the next try takes over without waiting for the expiry.
    assert lease.acquire(lease_session, holder="second", now=utcnow())


@pytest.mark.parametrize("difference", ["another boot", "another pid namespace", "unrecorded"])
def test_a_holder_that_cannot_be_checked_is_waited_for(lease_session, difference):
    me = lease.this_process()
    assert me is not None
    dead = _dead_pid()
    process: lease.ProcessIdentity | None = {
        "another boot": lease.ProcessIdentity(boot_id="00000000-0000-0000-0000-000000000000",
                                              pid=dead, started=1,
                                              pid_namespace=me.pid_namespace),
        "another pid namespace": lease.ProcessIdentity(boot_id=me.boot_id, pid=dead,
                                                       started=1, pid_namespace="pid:[1]"),
        "unrecorded": None,
    }[difference]
    _hold_as(lease_session, "elsewhere", process)
    now = utcnow()
    assert not lease.acquire(lease_session, holder="restarted", now=now)
    # ...until the lease expires, as before.
    assert lease.acquire(lease_session, holder="restarted",
                         now=now + lease.DEFAULT_TTL + timedelta(seconds=1))
