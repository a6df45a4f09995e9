"""Which channel reaches whom: email if configured and known, else SMS, else nothing.

With neither email nor SMS configured (development, the demo), every message
goes to the outbox instead, where the admin can read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from survey_app.scheduling.channels.base import Channel, OutgoingMessage
from survey_app.scheduling.channels.email import EmailChannel
from survey_app.scheduling.channels.outbox import OutboxChannel
from survey_app.scheduling.channels.sms import NotifySmsChannel


@dataclass(frozen=True)
class Channels:
    email: Channel | None = None
    sms: Channel | None = None
    outbox: Channel | None = None

    def route(self, *, email: str | None, mobile: str | None) -> tuple[str, str] | None:
        """(channel name, address) for a person, or None when no channel reaches them
        (they get a printed code card instead)."""
        if self.email is not None and email:
            return "email", email
        if self.sms is not None and mobile:
            return "sms", mobile
        if self.outbox is not None and self.email is None and self.sms is None:
            address = email or mobile
            return ("outbox", address) if address else None
        return None

    def by_name(self, name: str) -> Channel | None:
        return {"email": self.email, "sms": self.sms, "outbox": self.outbox}.get(name)


@contextmanager
def open_channels(config: Mapping[str, Any],
                  on_outbox: Callable[[OutgoingMessage], None] | None = None
                  ) -> Iterator[Channels]:
    """The channels the configuration sets up, closed (connections dropped) after use.

    ``on_outbox`` sees each message that lands in the development outbox (the
    scheduler prints them, so ``make run`` shows what would have been sent).
    """
    email = EmailChannel(config["PULSE_SMTP"]) if config.get("PULSE_SMTP") else None
    sms = NotifySmsChannel(config["PULSE_NOTIFY"]) if config.get("PULSE_NOTIFY") else None
    outbox = OutboxChannel(on_outbox) if email is None and sms is None else None
    try:
        yield Channels(email=email, sms=sms, outbox=outbox)
    finally:
        for channel in (email, sms):
            if channel is not None:
                channel.close()
