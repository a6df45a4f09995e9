"""Queue and send invitations and reminders, recording every step of each message.

States: pending -> sending -> sent | failed (with a reason) | unknown. Each
message is marked "sending" and committed just before it is sent, and its
outcome recorded and committed straight after; so if the process dies, only
the one message in flight is left in "sending", and the next run marks it
"unknown": it may have gone, so it is shown to the admin (who may choose to
resend it: :func:`resend_unknown`) and never resent automatically. Everyone
else is sent exactly once: the rest of the batch is still pending. Transient
failures are retried with backoff; the personal link in a body is erased once
the message is sent (the development outbox keeps it), and an unknown message's
once its pulse has closed.

So, unlike the other domain modules, dispatch commits per message itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from survey_app.core.clock import as_utc
from survey_app.models import Message, Schedule, Wave
from survey_app.scheduling.cadence import QuietHours, next_allowed
from survey_app.scheduling.channels import OutgoingMessage, SendResult
from survey_app.scheduling.channels.routing import Channels

BATCH_SIZE = 50
MAX_ATTEMPTS = 5
AfterSend = Callable[[Message, SendResult], None]


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    marked_unknown: int = 0
    deferred: int = 0
    cancelled: int = 0
    failures: list[str] = field(default_factory=list)


def quiet_hours_of(schedule: Schedule | None) -> QuietHours:
    if schedule is None:
        return QuietHours()
    return QuietHours(start=_clock(schedule.quiet_start), end=_clock(schedule.quiet_end),
                      weekends=schedule.weekends_allowed)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


UNKNOWN_REASON = ("The scheduler stopped while sending this: it may or may not have been "
                  "delivered, so it was not sent again.")


def mark_interrupted_unknown(session: Session, *, now: datetime | None = None) -> int:
    """The message a crashed run left in "sending" becomes "unknown". Commits.

    Only the lease holder dispatches, so at the start of its run nothing else
    can be legitimately sending. The body is kept so that an admin can resend
    it, but only while its pulse is open: given ``now``, the bodies of unknown
    messages whose pulse has closed are erased (their links are dead).
    """
    result = session.execute(
        update(Message).where(col(Message.status) == "sending")
        .values(status="unknown", sending_since=None, failure_reason=UNKNOWN_REASON)
    )
    if now is not None:
        closed = select(Wave.id).where((col(Wave.closed_at).is_not(None))
                                       | (col(Wave.closes_at) <= now))
        session.execute(
            update(Message)
            .where(col(Message.status) == "unknown", col(Message.body_text).is_not(None),
                   col(Message.wave_id).in_(closed))
            .values(body_text=None, body_html=None)
        )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class ResendRefused(Exception):
    """Why a message cannot be resent, in words for the admin."""


def resend_unknown(session: Session, *, message_id: int, now: datetime) -> Message:
    """Queue one "unknown" message to be sent again, at ``now``. The caller commits.

    Only ever on an admin's request: dispatch never resends an unknown message.
    Refused for any other state, once the pulse has closed, or without its body.
    """
    message = session.get(Message, message_id)
    if message is None or message.status != "unknown":
        raise ResendRefused("That message is not waiting to be resent: it may have been "
                            "resent already.")
    wave = session.get(Wave, message.wave_id)
    if (wave is None or wave.closed_at is not None or as_utc(wave.closes_at) <= now
            or not message.body_text):
        raise ResendRefused("That message can no longer be resent: its pulse has closed.")
    message.status = "pending"
    message.due_at = now
    message.failure_reason = None
    session.add(message)
    return message


def dispatch(session: Session, *, channels: Channels, now: datetime,
             unsubscribe_link: Callable[[int], str] | None = None,
             batch_size: int = BATCH_SIZE, after_send: AfterSend | None = None,
             still_leased: Callable[[], bool] | None = None) -> DispatchReport:
    """Send every message due at ``now``, a batch at a time. Commits per batch.

    ``unsubscribe_link`` gives a person's stop-reminders link (sent as the
    email List-Unsubscribe header). ``after_send`` is called between sending a
    message and recording it (a fault-injection point for tests of a crash
    mid-dispatch). ``still_leased`` is asked before each batch; when it says
    no, dispatch stops and leaves the rest pending for the lease holder.

    Each message is committed as "sending" before it is sent and committed
    again once recorded, so a crash leaves at most that one message uncertain.
    """
    report = DispatchReport(marked_unknown=mark_interrupted_unknown(session, now=now))
    quiet_cache: dict[int | None, QuietHours] = {}
    skip: set[int] = set()
    while True:
        if still_leased is not None and not still_leased():
            return report
        batch = _next_batch(session, now=now, batch_size=batch_size, skip=skip)
        if not batch:
            return report
        ready = []
        for message, wave, schedule in batch:
            assert message.id is not None
            if wave.closed_at is not None or as_utc(wave.closes_at) <= now:
                _fail(message, "The pulse closed before this could be sent.")
                report.cancelled += 1
                continue
            key = wave.schedule_id
            if key not in quiet_cache:
                quiet_cache[key] = quiet_hours_of(schedule)
            allowed = next_allowed(now, quiet_cache[key])
            if allowed > now:  # quiet hours: wait, do not send
                message.due_at = allowed
                report.deferred += 1
                skip.add(message.id)
                continue
            ready.append(message)
        for message, _, _ in batch:
            session.add(message)
        session.commit()  # the cancelled and the deferred
        for message in ready:
            message.status = "sending"
            message.sending_since = now
            session.add(message)
            session.commit()  # in flight: "unknown" if the process dies before the next
            _send_and_record(message, channels=channels, now=now, report=report,
                             after_send=after_send, unsubscribe_link=unsubscribe_link)
            session.add(message)
            session.commit()


def _next_batch(session: Session, *, now: datetime, batch_size: int,
                skip: set[int]) -> list[tuple[Message, Wave, Schedule | None]]:
    query = (
        select(Message, Wave, Schedule)
        .join(Wave, col(Wave.id) == col(Message.wave_id))
        .outerjoin(Schedule, col(Schedule.id) == col(Wave.schedule_id))
        .where(col(Message.status) == "pending", col(Message.due_at) <= now)
        .order_by(col(Message.due_at), col(Message.id))
        .limit(batch_size)
    )
    if skip:
        query = query.where(col(Message.id).not_in(skip))
    return [(m, w, s) for m, w, s in session.exec(query).all()]


def _send_and_record(message: Message, *, channels: Channels, now: datetime,
                     report: DispatchReport, after_send: AfterSend | None,
                     unsubscribe_link: Callable[[int], str] | None) -> None:
    channel = channels.by_name(message.channel)
    if channel is None:
        result = SendResult.failed(f"The {message.channel} channel is no longer configured.",
                                   transient=False)
    else:
        result = channel.send(OutgoingMessage(
            to=message.address, subject=message.subject, text=message.body_text or "",
            html=message.body_html, kind=message.kind,  # type: ignore[arg-type]
            reference=f"pulse-message-{message.id}",
            unsubscribe_link=unsubscribe_link(message.staff_member_id)
            if unsubscribe_link else None,
        ))
    if after_send is not None:
        after_send(message, result)
    message.attempts += 1
    message.sending_since = None
    if result.ok:
        message.status = "sent"
        message.sent_at = now
        message.provider_id = result.provider_id
        if message.channel != "outbox":
            message.body_text = message.body_html = None
        report.sent += 1
    elif result.transient and message.attempts < MAX_ATTEMPTS:
        message.status = "pending"
        message.failure_reason = result.reason
        # Backoff: 2, 4, 8, 16 minutes.
        message.due_at = now + timedelta(minutes=2 ** message.attempts)
        report.retrying += 1
    else:
        _fail(message, result.reason or "Failed")
        report.failed += 1
        report.failures.append(f"message {message.id}: {message.failure_reason}")


def _fail(message: Message, reason: str) -> None:
    message.status = "failed"
    message.failure_reason = reason[:500]
    message.body_text = message.body_html = None


def message_counts(session: Session, *, wave_id: int | None = None) -> dict[str, int]:
    """How many messages are in each state (for status pages and the CLI)."""
    query = select(Message.status, func.count()).group_by(col(Message.status))
    if wave_id is not None:
        query = query.where(col(Message.wave_id) == wave_id)
    counts = {state: 0 for state in ("pending", "sending", "sent", "failed", "unknown")}
    counts.update({status: int(count) for status, count in session.exec(query)})
    return counts
