"""Queue and send invitations and reminders, recording every step of each message.

States: pending -> sending -> sent | failed (with a reason) | unknown. Each
message is marked "sending" and committed just before it is sent, and its
outcome recorded and committed straight after; so if the process dies, only
the one message in flight is left in "sending", and the next run marks it
"unknown": it may have gone, so it is shown to the admin (who may choose to
resend it: :func:`resend_unknown`) and never resent automatically. Everyone
else is sent exactly once: the rest of the batch is still pending. Transient
failures are retried with backoff.

A queued message holds no body: its personal link is issued when it is sent. In
the commit that marks it "sending", a fresh token's hash goes on the invitation
(``token_hash`` for an invitation, ``reminder_token_hash`` for a reminder), and
the body with that link is built in memory and handed to the channel, never
stored (only the development outbox keeps it, once sent, for people to click).
So nobody reading the message table can open a pulse, and a resend simply issues
a new link: the one in the message that may have arrived stops working.

So, unlike the other domain modules, dispatch commits per message itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import and_, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from survey_app.core import tokens
from survey_app.core.clock import as_utc
from survey_app.models import Invitation, Message, Schedule, StaffMember, Team, Wave
from survey_app.scheduling.cadence import QuietHours, next_allowed
from survey_app.scheduling.channels import OutgoingMessage, SendResult
from survey_app.scheduling.channels.routing import Channels
from survey_app.scheduling.channels.templates import (
    RenderedMessage,
    invitation_message,
    reminder_message,
)

BATCH_SIZE = 50
MAX_ATTEMPTS = 5
AfterSend = Callable[[Message, SendResult], None]
UNSUBSCRIBE_SALT = "unsubscribe-reminders"


@dataclass(frozen=True)
class LinkSettings:
    """What messages need to build links: the public address and the signing key."""

    base_url: str
    secret_key: str

    def pulse_link(self, token: str) -> str:
        return f"{self.base_url}/p/{token}"

    def unsubscribe_link(self, staff_member_id: int) -> str:
        signed = URLSafeSerializer(self.secret_key, salt=UNSUBSCRIBE_SALT).dumps(staff_member_id)
        return f"{self.base_url}/unsubscribe/{signed}"

    def privacy_link(self) -> str:
        """The staff privacy notice (survey_app.notices), which every message links to."""
        return f"{self.base_url}/privacy/staff"


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


def mark_interrupted_unknown(session: Session) -> int:
    """The message a crashed run left in "sending" becomes "unknown". Commits.

    Only the lease holder dispatches, so at the start of its run nothing else
    can be legitimately sending. Its body was never stored: a resend builds a new
    one, with a new link. Any body still on a message that is not sent (one
    queued or left unknown before bodies were built at send time) is erased
    here, so no stored link can open a pulse.
    """
    result = session.execute(
        update(Message).where(col(Message.status) == "sending")
        .values(status="unknown", sending_since=None, failure_reason=UNKNOWN_REASON,
                body_text=None, body_html=None)
    )
    session.execute(
        update(Message)
        .where(col(Message.status).in_(("pending", "unknown")),
               or_(col(Message.body_text).is_not(None), col(Message.body_html).is_not(None)))
        .values(body_text=None, body_html=None)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class ResendRefused(Exception):
    """Why a message cannot be resent, in words for the admin."""


def resend_unknown(session: Session, *, message_id: int, now: datetime) -> Message:
    """Queue one "unknown" message to be sent again, at ``now``. The caller commits.

    Only ever on an admin's request: dispatch never resends an unknown message.
    Refused for any other state, or once the pulse has closed. When it is sent it
    carries a new link, and the link in the first (if it arrived) stops working.
    """
    message = session.get(Message, message_id)
    if message is None or message.status != "unknown":
        raise ResendRefused("That message is not waiting to be resent: it may have been "
                            "resent already.")
    wave = session.get(Wave, message.wave_id)
    if wave is None or wave.closed_at is not None or as_utc(wave.closes_at) <= now:
        raise ResendRefused("That message can no longer be resent: its pulse has closed.")
    message.status = "pending"
    message.due_at = now
    message.failure_reason = None
    session.add(message)
    return message


def dispatch(session: Session, *, channels: Channels, now: datetime, links: LinkSettings,
             batch_size: int = BATCH_SIZE, after_send: AfterSend | None = None,
             still_leased: Callable[[], bool] | None = None) -> DispatchReport:
    """Send every message due at ``now``, a batch at a time. Commits per batch.

    ``links`` builds each message's personal link and the person's
    stop-reminders link (also sent as the email List-Unsubscribe header).
    ``after_send`` is called between sending a message and recording it (a
    fault-injection point for tests of a crash mid-dispatch). ``still_leased``
    is asked before each batch; when it says no, dispatch stops and leaves the
    rest pending for the lease holder.

    Each message is committed as "sending" (with the hash of the new link it
    carries on its invitation) before it is sent and committed again once
    recorded, so a crash leaves at most that one message uncertain.
    """
    report = DispatchReport(marked_unknown=mark_interrupted_unknown(session))
    quiet_cache: dict[int | None, QuietHours] = {}
    skip: set[int] = set()
    while True:
        if still_leased is not None and not still_leased():
            return report
        batch = _next_batch(session, now=now, batch_size=batch_size, skip=skip)
        if not batch:
            return report
        ready = []
        for message, wave, schedule, invitation, member, team in batch:
            assert message.id is not None  # nosec B101  # narrows a type for mypy
            if wave.closed_at is not None or as_utc(wave.closes_at) <= now:
                _fail(message, "The pulse closed before this could be sent.")
                report.cancelled += 1
                continue
            if invitation is None or member is None or team is None:
                _fail(message, "This person's invitation to the pulse no longer exists.")
                report.failed += 1
                report.failures.append(f"message {message.id}: {message.failure_reason}")
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
            ready.append((message, wave, invitation, member, team))
        for message, *_ in batch:
            session.add(message)
        session.commit()  # the cancelled, the failed and the deferred
        for message, wave, invitation, member, team in ready:
            rendered = _issue_link(message, wave=wave, invitation=invitation, member=member,
                                   team=team, links=links)
            message.status = "sending"
            message.sending_since = now
            session.add(invitation)
            session.add(message)
            # In flight, with its link's hash: "unknown" if the process dies before the next.
            session.commit()
            _send_and_record(message, rendered, channels=channels, now=now, report=report,
                             after_send=after_send,
                             unsubscribe_link=links.unsubscribe_link(message.staff_member_id))
            session.add(message)
            session.commit()


def _issue_link(message: Message, *, wave: Wave, invitation: Invitation, member: StaffMember,
                team: Team, links: LinkSettings) -> RenderedMessage:
    """A new personal link for ``message``, its hash put on the invitation (replacing
    any earlier link of the same kind), and the message built around it, in memory."""
    token = tokens.new_token()
    render = reminder_message if message.kind == "reminder" else invitation_message
    rendered = render(member.name, team.name, links.pulse_link(token), wave.closes_at,
                      links.unsubscribe_link(member.id or 0),
                      privacy_link=links.privacy_link())
    if message.kind == "reminder":
        invitation.reminder_token_hash = tokens.hash_secret(token)
    else:
        invitation.token_hash = tokens.hash_secret(token)
    return rendered


Batch = tuple[Message, Wave, Schedule | None, Invitation | None, StaffMember | None,
              Team | None]


def _next_batch(session: Session, *, now: datetime, batch_size: int,
                skip: set[int]) -> list[Batch]:
    # SQLAlchemy's select: SQLModel's stops at four entities.
    query = (
        sa_select(Message, Wave, Schedule, Invitation, StaffMember, Team)
        .join(Wave, col(Wave.id) == col(Message.wave_id))
        .outerjoin(Schedule, col(Schedule.id) == col(Wave.schedule_id))
        .outerjoin(Invitation, and_(col(Invitation.wave_id) == col(Message.wave_id),
                                    col(Invitation.staff_member_id)
                                    == col(Message.staff_member_id)))
        .outerjoin(StaffMember, col(StaffMember.id) == col(Message.staff_member_id))
        .outerjoin(Team, col(Team.id) == col(Wave.team_id))
        .where(col(Message.status) == "pending", col(Message.due_at) <= now)
        .order_by(col(Message.due_at), col(Message.id))
        .limit(batch_size)
    )
    if skip:
        query = query.where(col(Message.id).not_in(skip))
    return [(m, w, s, i, p, t) for m, w, s, i, p, t in session.execute(query).tuples()]


def _send_and_record(message: Message, rendered: RenderedMessage, *, channels: Channels,
                     now: datetime, report: DispatchReport, after_send: AfterSend | None,
                     unsubscribe_link: str) -> None:
    is_sms = message.channel == "sms"
    text = rendered.sms if is_sms else rendered.text
    html = None if is_sms else rendered.html
    channel = channels.by_name(message.channel)
    if channel is None:
        result = SendResult.failed(f"The {message.channel} channel is no longer configured.",
                                   transient=False)
    else:
        result = channel.send(OutgoingMessage(
            to=message.address, subject=message.subject, text=text, html=html,
            kind=message.kind,  # type: ignore[arg-type]
            reference=f"pulse-message-{message.id}", unsubscribe_link=unsubscribe_link,
        ))
    if after_send is not None:
        after_send(message, result)
    message.attempts += 1
    message.sending_since = None
    if result.ok:
        message.status = "sent"
        message.sent_at = now
        message.provider_id = result.provider_id
        if message.channel == "outbox":  # the development viewer: kept to be read
            message.body_text, message.body_html = text, html
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
