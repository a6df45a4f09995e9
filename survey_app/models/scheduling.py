"""Tables of the running programme: schedules, messages, and the scheduler's lease.

A :class:`Message` is one invitation or reminder to one person through one
channel, moving pending -> sending -> sent | failed | unknown. Its body is built
at send time, with a link issued then, and is never stored (the development outbox
keeps the sent body, so people can click it). Each message is marked "sending" on
its own just before it is sent, so ``unknown`` (a crash left it in "sending": it may
or may not have gone) is at most the one message in flight. It is reported, never
resent automatically; an admin may resend it, with a new link.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from survey_app.models.base import utc_column

CADENCE_KINDS = ("weeks", "monthly", "quarterly")
MESSAGE_STATES = ("pending", "sending", "sent", "failed", "unknown")
MESSAGE_KINDS = ("invitation", "reminder")


class Schedule(SQLModel, table=True):
    """When a team (or every team of an INT) is pulsed, and how."""

    __tablename__ = "schedule"

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(
        sa_column=Column(Integer, ForeignKey("neighbourhood.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    # None: every team of the INT, including teams added later.
    team_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=True),
    )
    cadence_kind: str = Field(max_length=16)
    every_weeks: int | None = None
    weekday: int = 0  # 0 = Monday
    nth: int | None = None  # monthly/quarterly: 1-4, or -1 for the last
    send_time: str = Field(default="09:00", max_length=5)  # Europe/London
    window_days: int = 14
    reminder: bool = True
    quiet_start: str = Field(default="20:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    weekends_allowed: bool = False
    start_date: date
    end_date: date | None = None
    active: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    # The latest occurrence already acted on, so a catch-up opens it only once.
    last_occurrence: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Message(SQLModel, table=True):
    __tablename__ = "message"
    # The dispatcher's query: pending messages by due time.
    __table_args__ = (Index("ix_message_status_due_at", "status", "due_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    # With the wave, names the invitation (one per person per wave).
    staff_member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff_member.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    kind: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=254)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    # Not before this moment (quiet hours, retry backoff).
    due_at: datetime = Field(sa_column=utc_column(nullable=False))
    sending_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    failure_reason: str | None = Field(default=None, max_length=500)
    provider_id: str | None = Field(default=None, max_length=100)
    subject: str = Field(max_length=200)
    # Empty until sent; only the development outbox keeps a sent body (with its link).
    body_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class SchedulerLease(SQLModel, table=True):
    """Whoever holds an unexpired lease is the one scheduler allowed to act.

    The holder's process is recorded too (Linux: the boot id, its pid namespace, pid
    and start time), so that a restarted scheduler on the same machine can tell that
    the holder is gone and take over without waiting for the expiry. None where
    unknown (another system, or a row from before they were recorded).
    """

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=100)
    expires_at: datetime = Field(sa_column=utc_column(nullable=False))
    boot_id: str | None = Field(default=None, max_length=36)
    pid_namespace: str | None = Field(default=None, max_length=40)
    pid: int | None = None
    # /proc/<pid>/stat field 22: clock ticks after boot (may pass 2**31 on a long uptime).
    pid_started: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
