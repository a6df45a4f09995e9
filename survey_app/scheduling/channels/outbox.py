"""A development channel: messages are kept, not sent.

With no email or SMS configured (the demo), messages land here, for the admin
to read and ``make run`` to print. Given a callable, the outbox hands each
message to it (the application stores them in its outbox table); otherwise it
keeps them in memory.
"""

from __future__ import annotations

from collections.abc import Callable

from survey_app.scheduling.channels.base import OutgoingMessage, SendResult


class OutboxChannel:
    """Keeps every message; sending always succeeds.

    An exception raised by ``deliver`` is not a delivery failure (the
    database is down, say) and propagates to the caller.
    """

    def __init__(self, deliver: Callable[[OutgoingMessage], None] | None = None) -> None:
        self._deliver = deliver
        self.messages: list[OutgoingMessage] = []

    @property
    def name(self) -> str:
        return "outbox"

    def send(self, message: OutgoingMessage) -> SendResult:
        if self._deliver is not None:
            self._deliver(message)
        else:
            self.messages.append(message)
        return SendResult.sent(provider_id=f"outbox:{message.reference}")
