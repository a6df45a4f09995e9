"""Sending invitations and reminders: email (SMTP), SMS (GOV.UK Notify) and a
development outbox, each returning a recorded outcome instead of raising."""

from survey_app.scheduling.channels.base import Channel, MessageKind, OutgoingMessage, SendResult

__all__ = ["Channel", "MessageKind", "OutgoingMessage", "SendResult"]
