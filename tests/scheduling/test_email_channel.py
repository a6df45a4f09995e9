"""The email channel against a real SMTP server (aiosmtpd) on loopback: what the server
receives, and how each kind of failure is recorded."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from survey_app.core.config_error import ConfigError
from survey_app.scheduling.channels.base import OutgoingMessage, SendResult
from survey_app.scheduling.channels.email import (
    EmailChannel,
    SmtpSettings,
    build_email,
    smtp_settings_from_env,
)
from survey_app.scheduling.channels.templates import invitation_message, reminder_message
from tests.scheduling.conftest import ServerFactory, free_port

FROM = "Riverside INT pulse <pulse@riverside-int.example>"
TO = "ada.fernbrook@riverside-int.example"
LINK = "https://pulse.riverside-int.example/p/q8XvZ2mB7kR4tYw1nH6sLc3uJ9dE0fGa"
UNSUBSCRIBE = "https://pulse.riverside-int.example/reminders/off/Kp3Wq9Zx"
CLOSES = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def settings_for(controller: Controller, **overrides: Any) -> SmtpSettings:
    options: dict[str, Any] = {"host": "127.0.0.1", "port": controller.port, "security": "none",
                               "from_address": FROM, "timeout": 5.0}
    return SmtpSettings(**(options | overrides))


def invitation(**overrides: Any) -> OutgoingMessage:
    rendered = invitation_message("Ada Fernbrook", "District Nursing", LINK, CLOSES, UNSUBSCRIBE)
    fields: dict[str, Any] = {"to": TO, "subject": rendered.subject, "text": rendered.text,
                              "html": rendered.html, "kind": "invitation",
                              "reference": "outbox-41", "unsubscribe_link": UNSUBSCRIBE}
    return OutgoingMessage(**(fields | overrides))


def send(settings: SmtpSettings, *messages: OutgoingMessage) -> list[SendResult]:
    with EmailChannel(settings) as channel:
        return [channel.send(message) for message in messages]


def test_the_server_receives_both_parts_the_headers_and_the_links(
    start_server: ServerFactory,
) -> None:
    controller, recorder = start_server()
    [result] = send(settings_for(controller), invitation())

    assert result.ok and not result.transient and result.reason is None
    [envelope] = recorder.envelopes
    assert envelope.mail_from == "pulse@riverside-int.example"
    assert envelope.rcpt_tos == [TO]
    received = recorder.received()
    assert received["Subject"] == "Your 1-minute team pulse for District Nursing"
    assert received["From"] == FROM
    assert received["To"] == TO
    assert received["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert received["List-Unsubscribe-Post"] is None
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["X-Pulse-Reference"] == "outbox-41"
    assert received["Message-ID"] == result.provider_id
    assert received["Message-ID"].endswith("@riverside-int.example>")
    assert received.get_content_type() == "multipart/alternative"
    plain, html = received.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    plain_text = plain.get_content()
    assert LINK in plain_text.splitlines()  # the link on a line of its own
    assert UNSUBSCRIBE in plain_text
    assert "Hello Ada," in plain_text
    assert "Fernbrook" not in plain_text  # first name only
    assert "9am on Tuesday 15 December 2026" in plain_text
    assert f'<a href="{LINK}">' in html.get_content()


def test_text_only_and_one_click_unsubscribe(start_server: ServerFactory) -> None:
    controller, recorder = start_server()
    rendered = reminder_message("Ada Fernbrook", "District Nursing", LINK, CLOSES, UNSUBSCRIBE)
    message = invitation(kind="reminder", subject=rendered.subject, text=rendered.text,
                         html=None)
    [result] = send(settings_for(controller, one_click_unsubscribe=True), message)
    assert result.ok
    received = recorder.received()
    assert received.get_content_type() == "text/plain"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert LINK in received.get_content()


def test_no_unsubscribe_header_without_a_link() -> None:
    settings = SmtpSettings(host="127.0.0.1", from_address=FROM, security="none")
    assert build_email(invitation(unsubscribe_link=None), settings)["List-Unsubscribe"] is None


def test_one_connection_serves_many_messages(start_server: ServerFactory) -> None:
    controller, recorder = start_server()
    results = send(settings_for(controller), *(invitation(reference=f"outbox-{n}")
                                                for n in range(3)))
    assert all(result.ok for result in results)
    assert len(recorder.envelopes) == 3
    assert len(set(recorder.peers)) == 1  # the same client socket each time


def test_a_restarted_server_is_reconnected_to(start_server: ServerFactory) -> None:
    controller, first = start_server()
    with EmailChannel(settings_for(controller)) as channel:
        assert channel.send(invitation()).ok
        controller.stop()
        _, second = start_server(port=controller.port)
        assert channel.send(invitation(reference="outbox-42")).ok
    assert len(first.envelopes) == 1
    assert len(second.envelopes) == 1
    assert second.received()["X-Pulse-Reference"] == "outbox-42"


def test_a_refused_recipient_is_a_permanent_failure(start_server: ServerFactory) -> None:
    controller, recorder = start_server()
    recorder.rcpt_reply = "550 5.1.1 No such user here"
    [result] = send(settings_for(controller), invitation())
    assert (result.status, result.transient) == ("failed", False)
    assert result.reason is not None and "550" in result.reason
    assert "No such user" in result.reason
    assert recorder.envelopes == []


@pytest.mark.parametrize(
    ("reply", "transient"),
    [("451 4.3.0 Mail server temporarily rejected message", True),
     ("452 4.3.1 Insufficient system storage", True),
     ("554 5.7.1 Message rejected as spam", False)],
)
def test_a_refused_message_is_transient_for_4xx_and_permanent_for_5xx(
    start_server: ServerFactory, reply: str, transient: bool
) -> None:
    controller, recorder = start_server()
    recorder.data_reply = reply
    [result] = send(settings_for(controller), invitation())
    assert result.status == "failed"
    assert result.transient is transient
    assert result.reason is not None and reply[:3] in result.reason


def test_a_busy_recipient_server_is_transient(start_server: ServerFactory) -> None:
    controller, recorder = start_server()
    recorder.rcpt_reply = "450 4.2.1 Mailbox busy, try again later"
    [result] = send(settings_for(controller), invitation())
    assert (result.status, result.transient) == ("failed", True)


def test_nobody_listening_is_transient() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none",
                            from_address=FROM, timeout=2.0)
    [result] = send(settings, invitation())
    assert (result.status, result.transient) == ("failed", True)
    assert result.reason is not None and "ConnectionRefusedError" in result.reason


def authenticator(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                  auth_data: object) -> AuthResult:
    good = (isinstance(auth_data, LoginPassword)
            and (auth_data.login, auth_data.password) == (b"pulse", b"correct horse"))
    return AuthResult(success=good, handled=False)


def test_credentials_are_used_and_a_wrong_password_is_recorded(
    start_server: ServerFactory,
) -> None:
    controller, recorder = start_server(authenticator=authenticator, auth_require_tls=False,
                                        auth_required=False)
    [good] = send(settings_for(controller, username="pulse", password="correct horse"),
                  invitation())
    [bad] = send(settings_for(controller, username="pulse", password="wrong"), invitation())
    assert good.ok
    assert len(recorder.envelopes) == 1
    assert (bad.status, bad.transient) == ("failed", False)
    assert bad.reason is not None and "535" in bad.reason


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl for this run."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_with_a_trusted_certificate(
    start_server: ServerFactory, certificate: tuple[Path, Path]
) -> None:
    controller, recorder = start_server(tls_context=server_tls(certificate),
                                        require_starttls=True, authenticator=authenticator)
    settings = settings_for(controller, security="starttls", ca_file=str(certificate[0]),
                            username="pulse", password="correct horse")
    [result] = send(settings, invitation())
    assert result.ok
    assert recorder.received()["X-Pulse-Reference"] == "outbox-41"


def test_starttls_refuses_an_untrusted_certificate(
    start_server: ServerFactory, certificate: tuple[Path, Path]
) -> None:
    controller, recorder = start_server(tls_context=server_tls(certificate),
                                        require_starttls=True)
    [result] = send(settings_for(controller, security="starttls"), invitation())
    assert (result.status, result.transient) == ("failed", True)
    assert result.reason is not None and "CERTIFICATE_VERIFY_FAILED" in result.reason
    assert recorder.envelopes == []


def test_settings_from_the_environment() -> None:
    assert smtp_settings_from_env({}) is None
    settings = smtp_settings_from_env({
        "PULSE_SMTP_HOST": "smtp.riverside-int.example", "PULSE_SMTP_SECURITY": "SSL",
        "PULSE_SMTP_USERNAME": "pulse", "PULSE_SMTP_PASSWORD": "s3cret-value",
        "PULSE_SMTP_FROM": FROM, "PULSE_SMTP_TIMEOUT": "12.5",
    })
    assert settings is not None
    assert (settings.host, settings.port, settings.security, settings.timeout) == (
        "smtp.riverside-int.example", 465, "ssl", 12.5)
    assert "s3cret-value" not in repr(settings)
    starttls = smtp_settings_from_env({"PULSE_SMTP_HOST": "relay", "PULSE_SMTP_FROM": FROM})
    assert starttls is not None and (starttls.port, starttls.security) == (587, "starttls")


@pytest.mark.parametrize(
    ("environ", "message"),
    [({"PULSE_SMTP_FROM": "nobody"}, "PULSE_SMTP_FROM"),
     ({"PULSE_SMTP_SECURITY": "tls"}, "PULSE_SMTP_SECURITY"),
     ({"PULSE_SMTP_PORT": "smtp"}, "PULSE_SMTP_PORT"),
     ({"PULSE_SMTP_USERNAME": "pulse"}, "both"),
     ({"PULSE_SMTP_SECURITY": "none", "PULSE_SMTP_USERNAME": "pulse",
       "PULSE_SMTP_PASSWORD": "pw"}, "unencrypted")],
)
def test_unsafe_or_malformed_settings_are_refused(environ: dict[str, str],
                                                  message: str) -> None:
    base = {"PULSE_SMTP_HOST": "smtp.riverside-int.example", "PULSE_SMTP_FROM": FROM}
    with pytest.raises(ConfigError, match=message):
        smtp_settings_from_env(base | environ)
