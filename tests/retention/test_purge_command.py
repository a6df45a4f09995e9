"""``flask retention purge [--dry-run]``: counts per INT and kind, batches with a progress
bar, one audit event a run, idempotent; the scheduler's daily job; the audit setting."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from survey_app import create_app, demo
from survey_app.core.clock import utcnow
from survey_app.core.config_error import ConfigError
from survey_app.core.retention_policy import KINDS
from survey_app.models import (
    ActivationRating,
    AuditEvent,
    Invitation,
    ItemAnswer,
    Response,
    SchedulerLease,
    WaveSummary,
)
from survey_app.retention import cli as retention_cli
from survey_app.retention import purge
from survey_app.retention.settings import audit_days_from_env
from survey_app.scheduling import lease, process
from tests.retention.conftest import AUDIT_DAYS, closed, closed_waves, count

pytestmark = pytest.mark.db

TABLES = (Invitation, ItemAnswer, Response, WaveSummary, ActivationRating, AuditEvent)


def _counts(session):
    session.expire_all()
    return {table.__tablename__: count(session, table) for table in TABLES}


@pytest.fixture
def ten_years_on(session, riverside):
    """A moment when every kind of the demo's data is past its period, but the latest
    wave's aggregates (closed less than 10 years before) are not."""
    return closed(closed_waves(session)[-1]) + timedelta(days=3000)


def test_a_dry_run_prints_each_int_s_counts_per_kind_and_removes_nothing(
        session, runner, ten_years_on, monkeypatch):
    monkeypatch.setattr(retention_cli, "utcnow", lambda: ten_years_on)
    expected = purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS)
    session.rollback()
    before = _counts(session)
    assert {target.kind for target in expected} >= {
        "retain_invitations_days", "retain_comments_days", "retain_answers_days",
        "retain_ratings_days"}

    result = runner.invoke(args=["retention", "purge", "--dry-run"])

    assert result.exit_code == 0, result.output
    words = {kind.column: kind.name for kind in KINDS}
    for target in expected:
        assert f"{demo.INT_SLUG}: {words[target.kind]}: {target.count} rows" in result.output
    assert f"Would remove {purge.totals(expected)} rows in all" in result.output
    assert _counts(session) == before
    assert count(session, AuditEvent, AuditEvent.action == "retention.purge") == 0


def test_a_purge_removes_in_batches_what_the_dry_run_counted_then_nothing_more(
        session, riverside, ten_years_on, run_purge):
    expected = {(t.neighbourhood, t.kind): t.count
                for t in purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS)}
    session.rollback()
    batches: list[int] = []

    report = run_purge(ten_years_on, batch_size=500, on_batch=batches.append)

    assert report.removed == expected
    assert sum(batches) == report.total == sum(expected.values())
    assert max(batches) == 500 and all(0 < size <= 500 for size in batches)
    # At least one batch per table with rows, and no more than the rows need.
    assert len(batches) >= len(expected)
    assert len(batches) <= sum(-(-n // 500) for n in expected.values()) + 6
    assert purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS) == []
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == "retention.purge")).all()
    assert len(events) == 1
    detail = json.loads(events[0].detail)
    assert detail["total"] == report.total
    assert detail["removed"][f"{demo.INT_SLUG}/retain_answers_days"] == expected[
        (demo.INT_SLUG, "retain_answers_days")]

    again = run_purge(ten_years_on, batch_size=500)
    assert again.removed == {} and again.total == 0
    assert count(session, AuditEvent, AuditEvent.action == "retention.purge") == 2


def test_the_command_shows_progress_and_prints_totals(session, runner, ten_years_on,
                                                      monkeypatch):
    monkeypatch.setattr(retention_cli, "utcnow", lambda: ten_years_on)
    total = purge.totals(purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS))
    session.rollback()
    result = runner.invoke(args=["retention", "purge", "--batch-size", "1000"])
    assert result.exit_code == 0, result.output
    assert "Removing" in result.output
    assert f"Removed {total} rows in all." in result.output
    assert purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS) == []

    again = runner.invoke(args=["retention", "purge"])
    assert again.exit_code == 0 and "Removed 0 rows in all." in again.output


@pytest.mark.parametrize("value", ["0", "abc"])
def test_a_bad_batch_size_is_refused_with_a_message(runner, value):
    result = runner.invoke(args=["retention", "purge", "--batch-size", value])
    assert result.exit_code == 2
    assert "--batch-size" in result.output


def test_a_purge_stops_when_the_scheduler_loses_its_lease(session, ten_years_on, run_purge):
    invitations, answers = count(session, Invitation), count(session, Response)
    leased = iter([True, True, False])
    report = run_purge(ten_years_on, batch_size=100, still_leased=lambda: next(leased))
    assert report.stopped and report.total == 200
    assert count(session, Invitation) == invitations - 200  # two batches, kept
    assert count(session, Response) == answers  # invitations go first; answers wait
    [event] = session.exec(select(AuditEvent).where(
        AuditEvent.action == "retention.purge")).all()
    assert json.loads(event.detail) == {
        "removed": {f"{demo.INT_SLUG}/retain_invitations_days": 200}, "total": 200,
        "stopped": True}


def test_the_scheduler_runs_the_purge_daily_at_a_quiet_hour(app, runner):
    with mock.patch.object(process, "BlockingScheduler") as scheduler:
        assert runner.invoke(args=["scheduler", "run"]).exit_code == 0
    jobs = {call.kwargs["id"]: call for call in scheduler.return_value.add_job.call_args_list}
    assert set(jobs) == {"programme-tick", "retention-purge"}
    job = jobs["retention-purge"]
    assert job.args[0] is process.run_retention and job.kwargs["args"] == [app]
    trigger = job.args[1]
    assert isinstance(trigger, CronTrigger)
    fields = {field.name: str(field) for field in trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("3", "30")
    assert str(trigger.timezone) == "Europe/London"
    assert job.kwargs["max_instances"] == 1


def test_the_daily_job_purges_only_while_holding_the_lease(app, session, ten_years_on):
    assert lease.acquire(session, holder="another-scheduler", now=utcnow())
    assert process.run_retention(app, now=ten_years_on) is None
    assert purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS) != []
    session.rollback()

    lease.release(session, holder="another-scheduler", now=utcnow())
    report = process.run_retention(app, now=ten_years_on)
    assert report is not None and report.total > 0 and not report.stopped
    assert purge.due(session, now=ten_years_on, audit_days=AUDIT_DAYS) == []
    session.expire_all()
    held = session.get(SchedulerLease, lease.LEASE)
    assert held is not None and held.holder == process.holder_name()


@pytest.mark.parametrize(("value", "days"), [(None, 730), ("", 730), ("365", 365),
                                             (" 3650 ", 3650)])
def test_the_audit_period_setting(value, days):
    environ = {} if value is None else {"PULSE_RETAIN_AUDIT_DAYS": value}
    assert audit_days_from_env(environ) == days


@pytest.mark.parametrize(("value", "message"), [
    ("two years", "must be a whole number of days, not 'two years'"),
    ("0", "between 1 and 7305 days, not 0"),
    ("7306", "between 1 and 7305 days, not 7306"),
])
def test_a_bad_audit_period_stops_the_app_with_a_clear_message(value, message, monkeypatch,
                                                               migrated_database):
    monkeypatch.setenv("PULSE_RETAIN_AUDIT_DAYS", value)
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": migrated_database,
                    "SECRET_KEY": "x" * 40})
