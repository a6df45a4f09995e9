"""The scheduler process: APScheduler calls the programme's ``tick`` every minute.

It runs as its own process (``flask --app wsgi scheduler run``, which ``make
run`` starts beside the web server), never at import and never under tests.
However many schedulers are started, the database lease lets one act at a time.

With neither email nor SMS configured, messages go to the development outbox and
are printed on the console. In production that would put every personal link and
address on stdout (and into the logs), so there the scheduler refuses to start.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlmodel import Session

from survey_app.core.clock import LONDON, utcnow
from survey_app.core.db import get_engine
from survey_app.core.extensions import team_pulse
from survey_app.retention import purge as retention
from survey_app.scheduling import lease, tick
from survey_app.scheduling.channels.base import OutgoingMessage
from survey_app.scheduling.channels.routing import open_channels
from survey_app.scheduling.dispatch import AfterSend

log = logging.getLogger(__name__)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_tick(app: Flask, *, now: datetime | None = None,
             after_send: AfterSend | None = None) -> tick.TickReport:
    """One tick inside its own app context and database session."""
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        # Never printed in production: the outbox holds personal links.
        printer = None if app.config.get("PULSE_ENV") == "production" else _print_outbox
        with open_channels(app.config, on_outbox=printer) as channels:
            report = tick.tick(
                session, now=now or utcnow(),
                instrument=team_pulse(),
                channels=channels,
                links=tick.LinkSettings(app.config["PULSE_BASE_URL"],
                                             app.config["SECRET_KEY"]),
                holder=holder_name(), after_send=after_send,
            )
    if report.acted and (report.opened or report.closed or report.dispatch.sent
                         or report.dispatch.failed or report.dispatch.marked_unknown):
        log.info("tick: %s", report.summary())
    return report


# The daily retention purge runs at a quiet hour in England, away from sending times.
RETENTION_HOUR, RETENTION_MINUTE = 3, 30


def run_retention(app: Flask, *, now: datetime | None = None) -> retention.PurgeReport | None:
    """The daily purge, inside its own app context and session, while this process holds
    the scheduler lease (renewed before each batch); None when another scheduler holds it."""
    holder = holder_name()
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        if not lease.acquire(session, holder=holder, now=utcnow()):
            return None
        try:
            report = retention.purge(
                session, now=now or utcnow(), audit_days=app.config["PULSE_RETAIN_AUDIT_DAYS"],
                still_leased=lambda: lease.acquire(session, holder=holder, now=utcnow()))
        finally:
            session.rollback()
            lease.release(session, holder=holder, now=utcnow())
    log.info("retention purge: removed %d rows%s", report.total,
             " (stopped: lease lost)" if report.stopped else "")
    return report


def _print_outbox(message: OutgoingMessage) -> None:
    """Show a development-outbox message on the console (no email or SMS configured)."""
    link = next((word for word in message.text.split() if "/p/" in word), "(no link)")
    print(f"[outbox] {message.kind} to {message.to}: {message.subject}\n         {link}",
          flush=True)


NO_CHANNEL_IN_PRODUCTION = (
    "The scheduler will not start: PULSE_ENV is production but neither email "
    "(PULSE_SMTP_HOST) nor text messages (PULSE_NOTIFY_API_KEY) are configured, so every "
    "invitation would go to the development outbox. Configure at least one channel.")


def refusal(app: Flask) -> str | None:
    """Why the scheduler must not start with this configuration, or None."""
    configured = app.config.get("PULSE_SMTP") or app.config.get("PULSE_NOTIFY")
    if app.config.get("PULSE_ENV") == "production" and not configured:
        return NO_CHANNEL_IN_PRODUCTION
    return None


def run_forever(app: Flask) -> None:
    """Tick every minute until stopped (Ctrl-C or SIGTERM).

    Refuses (click.ClickException) to start in production without a channel.
    """
    problem = refusal(app)
    if problem is not None:
        raise click.ClickException(problem)
    # APScheduler logs every run at INFO; our tick logs what it did instead.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(run_tick, IntervalTrigger(minutes=1), args=[app], id="programme-tick",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC),
                      misfire_grace_time=None)
    scheduler.add_job(run_retention, CronTrigger(hour=RETENTION_HOUR, minute=RETENTION_MINUTE,
                                                 timezone=LONDON),
                      args=[app], id="retention-purge", max_instances=1, coalesce=True,
                      misfire_grace_time=None)
    log.info("scheduler started: ticking every minute as %s", holder_name())
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
