"""The SMS channel through the real Notify client, against a local stand-in for the
Notify API that records requests and answers as Notify's documentation shows."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from survey_app.core.config_error import ConfigError
from survey_app.scheduling.channels.base import MAX_REASON, OutgoingMessage
from survey_app.scheduling.channels.sms import (
    NotifySettings,
    NotifySmsChannel,
    notify_settings_from_env,
)
from survey_app.scheduling.channels.templates import SMS_TEXT_LIMIT, invitation_message
from tests.scheduling.conftest import (
    API_KEY,
    CLOSES,
    INVITATION_TEMPLATE,
    LINK,
    REMINDER_TEMPLATE,
    SECRET,
    SERVICE_ID,
    FakeNotify,
    Reply,
    error,
)


@pytest.fixture
def channel(notify: FakeNotify) -> Iterator[NotifySmsChannel]:
    settings = NotifySettings(api_key=API_KEY, invitation_template_id=INVITATION_TEMPLATE,
                              reminder_template_id=REMINDER_TEMPLATE, base_url=notify.url,
                              timeout=5.0)
    with NotifySmsChannel(settings) as sms:
        yield sms


def text_message(**overrides: Any) -> OutgoingMessage:
    rendered = invitation_message("Ada Fernbrook", "District Nursing", LINK, CLOSES,
                                  "https://pulse.riverside-int.example/reminders/off/x")
    fields: dict[str, Any] = {"to": "+447700900101", "subject": rendered.subject,
                              "text": rendered.sms, "html": None, "kind": "invitation",
                              "reference": "outbox-41"}
    return OutgoingMessage(**(fields | overrides))


def test_an_invitation_is_sent_with_its_template_text_and_reference(
    notify: FakeNotify, channel: NotifySmsChannel
) -> None:
    message = text_message()
    result = channel.send(message)

    [request] = notify.requests
    assert request["path"] == "/v2/notifications/sms"
    assert request["json"] == {
        "phone_number": "+447700900101",
        "template_id": INVITATION_TEMPLATE,
        "personalisation": {"message": message.text},
        "reference": "outbox-41",
    }
    assert result.ok and result.reason is None
    assert result.provider_id is not None and uuid.UUID(result.provider_id)
    # The SMS wording: first name only, one fragment before the link, link on its own line.
    first_line, link_line = message.text.split("\n")
    assert len(first_line) <= SMS_TEXT_LIMIT
    assert link_line == LINK
    assert "Ada" in first_line and "Fernbrook" not in first_line


def test_the_client_signs_each_request_with_a_jwt_for_the_service(
    notify: FakeNotify, channel: NotifySmsChannel
) -> None:
    channel.send(text_message())
    authorization = notify.requests[0]["headers"]["Authorization"]
    scheme, token = authorization.split(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])  # raises if the signature is bad
    assert claims["iss"] == SERVICE_ID
    assert isinstance(claims["iat"], int)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "0" * 36, algorithms=["HS256"])


def test_a_reminder_uses_the_reminder_template(notify: FakeNotify,
                                               channel: NotifySmsChannel) -> None:
    assert channel.send(text_message(kind="reminder")).ok
    assert notify.requests[0]["json"]["template_id"] == REMINDER_TEMPLATE


@pytest.mark.parametrize(
    ("reply", "transient"),
    [(error(400, "BadRequestError", "Can't send to this recipient using a team-only API key"),
      False),
     (error(400, "ValidationError", "phone_number Not a UK mobile number"), False),
     (error(403, "AuthError", "Invalid token: API key not found"), False),
     (error(429, "RateLimitError",
            "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"), True),
     (error(429, "TooManyRequestsError", "Exceeded send limits (250000) for today"), True),
     (error(500, "Exception", "Internal server error"), True)],
)
def test_notify_errors_are_recorded_as_transient_or_permanent(
    notify: FakeNotify, channel: NotifySmsChannel, reply: Reply, transient: bool
) -> None:
    notify.replies.append(reply)
    result = channel.send(text_message())
    assert (result.status, result.transient) == ("failed", transient)
    assert result.reason is not None
    assert result.reason.startswith(f"Notify answered {reply.status}")
    assert reply.body is not None
    assert reply.body["errors"][0]["message"] in result.reason
    assert result.provider_id is None


def test_a_failure_then_a_retry_succeeds(notify: FakeNotify,
                                         channel: NotifySmsChannel) -> None:
    notify.replies.append(error(500, "Exception", "Internal server error"))
    first, second = channel.send(text_message()), channel.send(text_message())
    assert (first.status, second.status) == ("failed", "sent")
    assert len(notify.requests) == 2


def test_an_unreachable_notify_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = NotifySettings(api_key=API_KEY, invitation_template_id=INVITATION_TEMPLATE,
                              reminder_template_id=REMINDER_TEMPLATE,
                              base_url=f"http://127.0.0.1:{port}", timeout=2.0)
    with NotifySmsChannel(settings) as sms:
        result = sms.send(text_message())
    assert (result.status, result.transient) == ("failed", True)
    assert result.reason is not None and "503" in result.reason


def test_settings_from_the_environment() -> None:
    assert notify_settings_from_env({}) is None
    settings = notify_settings_from_env({
        "PULSE_NOTIFY_API_KEY": API_KEY,
        "PULSE_NOTIFY_INVITATION_TEMPLATE_ID": INVITATION_TEMPLATE,
        "PULSE_NOTIFY_REMINDER_TEMPLATE_ID": REMINDER_TEMPLATE,
    })
    assert settings is not None
    assert settings.base_url == "https://api.notifications.service.gov.uk"
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"PULSE_NOTIFY_API_KEY": "not-a-key"}, "PULSE_NOTIFY_API_KEY"),
     ({"PULSE_NOTIFY_API_KEY": f"{SERVICE_ID}-{SECRET}"[1:]}, "PULSE_NOTIFY_API_KEY"),
     ({"PULSE_NOTIFY_INVITATION_TEMPLATE_ID": ""}, "INVITATION_TEMPLATE_ID"),
     ({"PULSE_NOTIFY_REMINDER_TEMPLATE_ID": "reminder"}, "REMINDER_TEMPLATE_ID")],
)
def test_malformed_settings_are_refused(overrides: dict[str, str], message: str) -> None:
    environ = {"PULSE_NOTIFY_API_KEY": API_KEY,
               "PULSE_NOTIFY_INVITATION_TEMPLATE_ID": INVITATION_TEMPLATE,
               "PULSE_NOTIFY_REMINDER_TEMPLATE_ID": REMINDER_TEMPLATE}
    with pytest.raises(ConfigError, match=message):
        notify_settings_from_env(environ | overrides)


def test_a_name_of_any_length_keeps_the_sms_to_one_fragment_before_the_link() -> None:
    long_team = "Riverside and Meadowbank Integrated Community Nursing and Therapies Service"
    rendered = invitation_message("Bartholomew-Fitzwilliam Ozymandias", long_team, LINK,
                                  CLOSES, "https://x/u")
    first_line, link_line = rendered.sms.split("\n")
    assert len(first_line) <= SMS_TEXT_LIMIT
    assert link_line == LINK


def test_a_long_failure_reason_is_cut_to_fit_the_message_table(
    notify: FakeNotify, channel: NotifySmsChannel
) -> None:
    notify.replies.append(error(400, "BadRequestError", "x" * 2000))
    result = channel.send(text_message())
    assert result.reason is not None
    assert len(result.reason) == MAX_REASON and result.reason.endswith("...")
