"""What every channel takes and gives back: a message in, a recorded outcome out.

A channel never raises for a delivery problem. It returns a :class:`SendResult`
saying whether the message went and, if not, whether trying again later may
help (``transient``) or never will (a refused address, a rejected message), so
the dispatcher can record the outcome, retry with backoff, or give up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

MessageKind = Literal["invitation", "reminder", "account"]  # account: a password reset link
SendStatus = Literal["sent", "failed"]
# Servers can answer at length; the message table keeps 500 characters.
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to one person.

    ``to`` is an email address or an E.164 mobile number, as the channel
    expects. ``reference`` is the caller's id for the message (e.g. the outbox
    row), handed to the provider so its records can be matched to ours; it
    must not carry personal data. ``unsubscribe_link`` is the person's
    unsubscribe-from-reminders page, sent as the email List-Unsubscribe header.
    """

    to: str
    subject: str
    text: str
    html: str | None
    kind: MessageKind
    reference: str
    unsubscribe_link: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one attempt to send.

    ``status`` is "sent" (the provider accepted the message, which is not
    proof of delivery) or "failed". ``transient`` is True when a later retry
    may succeed (rate limits, timeouts, a server busy or down); False for a
    failure that will recur. ``reason`` explains a failure for the admin;
    ``provider_id`` is the provider's id for a sent message.

    Raises
    ------
    ValueError
        If a sent result is marked transient or a failed one has no reason.
    """

    status: SendStatus
    transient: bool = False
    reason: str | None = None
    provider_id: str | None = None

    def __post_init__(self) -> None:
        if self.status == "sent" and self.transient:
            raise ValueError("a sent message cannot be a transient failure")
        if self.status == "failed" and not self.reason:
            raise ValueError("a failed send needs a reason")

    @classmethod
    def sent(cls, provider_id: str | None = None) -> SendResult:
        return cls("sent", provider_id=provider_id)

    @classmethod
    def failed(cls, reason: str, *, transient: bool) -> SendResult:
        """A failure; ``reason`` is cut to :data:`MAX_REASON` characters."""
        if len(reason) > MAX_REASON:
            reason = reason[:MAX_REASON - 3] + "..."
        return cls("failed", transient=transient, reason=reason)

    @property
    def ok(self) -> bool:
        return self.status == "sent"


class Channel(Protocol):
    """A way to reach people. ``send`` returns the outcome and does not raise for
    delivery problems (only for programming errors)."""

    @property
    def name(self) -> str: ...

    def send(self, message: OutgoingMessage) -> SendResult: ...


def http_status_is_transient(status: int) -> bool:
    """Whether a failed HTTP request is worth retrying: timeouts (408), rate limits
    (429) and server errors (5xx) pass; other client errors (4xx) recur as they are."""
    return status in (408, 429) or 500 <= status <= 599


def smtp_code_is_transient(code: int) -> bool:
    """Whether an SMTP reply code is worth retrying: 4xx replies are temporary by
    definition (RFC 5321, section 4.2.1); 5xx are permanent."""
    return 400 <= code <= 499
