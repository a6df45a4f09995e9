"""Text messages through GOV.UK Notify, with its official Python client.

Settings come from the environment (:func:`notify_settings_from_env`):

``PULSE_NOTIFY_API_KEY``
    A Notify API key, ``{key_name}-{service_id}-{secret_key}``; unset means no
    SMS channel. Use a test key outside production: Notify accepts the
    message and sends nothing.
``PULSE_NOTIFY_INVITATION_TEMPLATE_ID``, ``PULSE_NOTIFY_REMINDER_TEMPLATE_ID``
    Text message templates whose whole content is ``((message))``: the
    wording is Pulse's (:mod:`survey_app.scheduling.channels.templates`), so it is
    reviewed and tested with the code, and Notify fills in the one field.
``PULSE_NOTIFY_BASE_URL``
    Default ``https://api.notifications.service.gov.uk``; tests point it at a
    local stand-in.

Which failures are worth retrying: rate limits (429), Notify's own errors
(5xx) and unreachable or timed-out requests (which the client reports as 503)
are transient; a bad request (400: an invalid number, a trial-mode or
team-only key sending outside the team) or a refused key (403) is permanent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from survey_app.core.config_error import ConfigError
from survey_app.scheduling.channels.base import (
    OutgoingMessage,
    SendResult,
    http_status_is_transient,
)

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_API_KEY = re.compile(rf"^.+-{_UUID}-{_UUID}$", re.IGNORECASE)
_TEMPLATE_ID = re.compile(rf"^{_UUID}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """How to reach GOV.UK Notify. The key is kept out of ``repr``.

    Raises
    ------
    ConfigError
        If the API key or a template id does not have Notify's form.
    """

    api_key: str = field(repr=False)
    invitation_template_id: str
    reminder_template_id: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not _API_KEY.match(self.api_key):
            raise ConfigError("PULSE_NOTIFY_API_KEY must be a Notify API key: "
                              "{key_name}-{service_id}-{secret_key}")
        for name, value in (("INVITATION", self.invitation_template_id),
                            ("REMINDER", self.reminder_template_id)):
            if not _TEMPLATE_ID.match(value):
                raise ConfigError(f"PULSE_NOTIFY_{name}_TEMPLATE_ID must be a template id "
                                  f"(a UUID), got {value!r}")


def notify_settings_from_env(environ: Mapping[str, str]) -> NotifySettings | None:
    """SMS settings from ``PULSE_NOTIFY_*``, or None when no API key is set.

    Raises
    ------
    ConfigError
        If a value is missing or malformed.
    """
    api_key = environ.get("PULSE_NOTIFY_API_KEY", "").strip()
    if not api_key:
        return None
    return NotifySettings(
        api_key=api_key,
        invitation_template_id=environ.get("PULSE_NOTIFY_INVITATION_TEMPLATE_ID", "").strip(),
        reminder_template_id=environ.get("PULSE_NOTIFY_REMINDER_TEMPLATE_ID", "").strip(),
        base_url=environ.get("PULSE_NOTIFY_BASE_URL", "").strip() or DEFAULT_BASE_URL,
    )


class _SmsClient(Protocol):
    """The part of ``NotificationsAPIClient`` used here (the client is untyped)."""

    def send_sms_notification(self, phone_number: str, template_id: str,
                              personalisation: dict[str, str] | None = None,
                              reference: str | None = None) -> Any: ...


class NotifySmsChannel:
    """Sends each message as a Notify text message, ``((message))`` filled with its
    text. Not thread-safe (nor is the client): one per dispatching thread; call
    :meth:`close` (or use it as a context manager) when done."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            settings.api_key, base_url=settings.base_url, timeout=settings.timeout)

    @property
    def name(self) -> str:
        return "sms"

    def __enter__(self) -> NotifySmsChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.request_session.close()

    def send(self, message: OutgoingMessage) -> SendResult:
        template_id = (self.settings.invitation_template_id if message.kind == "invitation"
                       else self.settings.reminder_template_id)
        client = cast(_SmsClient, self._client)
        try:
            response = client.send_sms_notification(
                phone_number=message.to,
                template_id=template_id,
                personalisation={"message": message.text},
                reference=message.reference,
            )
        except APIError as error:
            # The client turns unreachable and timed-out requests into 503s too. A
            # timeout after Notify accepted the request could mean it was sent.
            return SendResult.failed(f"Notify answered {error.status_code}: "
                                     f"{_describe(error.message)}",
                                     transient=http_status_is_transient(error.status_code))
        provider_id = response.get("id") if isinstance(response, dict) else None
        return SendResult.sent(provider_id=str(provider_id) if provider_id else None)


def _describe(message: object) -> str:
    """Notify's error list (``[{"error": ..., "message": ...}]``) as one line."""
    if isinstance(message, list):
        return "; ".join(
            f"{item.get('error')}: {item.get('message')}" if isinstance(item, dict) else str(item)
            for item in message
        )
    return str(message)
