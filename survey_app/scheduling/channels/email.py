"""Email over SMTP: a plain-text and HTML message per person, through the trust's relay.

Settings come from the environment (:func:`smtp_settings_from_env`):

``PULSE_SMTP_HOST``
    The relay; unset means no email channel.
``PULSE_SMTP_PORT``
    Default 587 (STARTTLS); 465 for implicit TLS; 25 for plain.
``PULSE_SMTP_SECURITY``
    ``starttls`` (default), ``ssl`` (implicit TLS) or ``none``.
``PULSE_SMTP_USERNAME``, ``PULSE_SMTP_PASSWORD``
    Optional; both or neither.
``PULSE_SMTP_FROM``
    The From address, e.g. ``Team pulse <pulse@riverside-int.example>``.
``PULSE_SMTP_TIMEOUT``
    Seconds to wait for the server, default 30.
``PULSE_SMTP_CA_FILE``
    Optional CA bundle, for relays with certificates from a private CA.
``PULSE_SMTP_ONE_CLICK_UNSUBSCRIBE``
    ``1`` to add ``List-Unsubscribe-Post`` (RFC 8058): only when the
    unsubscribe link unsubscribes on a bare POST, with no page in between.

Which failures are worth retrying: a refused or dropped connection, a timeout,
a TLS failure and any 4xx reply are transient; a 5xx reply is permanent.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal, get_args

from survey_app.accounts.password_reset import AccountMessage
from survey_app.core.config_error import ConfigError
from survey_app.scheduling.channels.base import OutgoingMessage, SendResult, smtp_code_is_transient

SmtpSecurity = Literal["starttls", "ssl", "none"]
SECURITY_MODES: tuple[str, ...] = get_args(SmtpSecurity)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the SMTP relay.

    Raises
    ------
    ConfigError
        If the From address has no domain, the security mode is unknown, only
        one of username and password is set, or credentials would cross the
        network unencrypted (``security="none"`` to a host other than loopback).
    """

    host: str
    from_address: str
    port: int = 587
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ca_file: str | None = None
    one_click_unsubscribe: bool = False

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ConfigError(f"PULSE_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)},"
                              f" got {self.security!r}")
        if "@" not in parseaddr(self.from_address)[1]:
            raise ConfigError(f"PULSE_SMTP_FROM must be an email address, "
                              f"got {self.from_address!r}")
        if (self.username is None) != (self.password is None):
            raise ConfigError("Set both PULSE_SMTP_USERNAME and PULSE_SMTP_PASSWORD, or neither")
        if self.username is not None and self.security == "none" and not _is_loopback(self.host):
            raise ConfigError("Refusing to send SMTP credentials unencrypted to "
                              f"{self.host}: set PULSE_SMTP_SECURITY to starttls or ssl")


def smtp_settings_from_env(environ: Mapping[str, str]) -> SmtpSettings | None:
    """Email settings from ``PULSE_SMTP_*``, or None when no host is set.

    Raises
    ------
    ConfigError
        If a value is malformed or the settings are unsafe (see :class:`SmtpSettings`).
    """
    host = environ.get("PULSE_SMTP_HOST", "").strip()
    if not host:
        return None
    security = environ.get("PULSE_SMTP_SECURITY", "starttls").strip().lower()
    default_port = 465 if security == "ssl" else 587
    try:
        port = int(environ.get("PULSE_SMTP_PORT") or default_port)
        timeout = float(environ.get("PULSE_SMTP_TIMEOUT") or 30)
    except ValueError:
        raise ConfigError("PULSE_SMTP_PORT and PULSE_SMTP_TIMEOUT must be numbers") from None
    return SmtpSettings(
        host=host,
        port=port,
        security=security,  # type: ignore[arg-type]  # checked by SmtpSettings
        username=environ.get("PULSE_SMTP_USERNAME") or None,
        password=environ.get("PULSE_SMTP_PASSWORD") or None,
        from_address=environ.get("PULSE_SMTP_FROM", ""),
        timeout=timeout,
        ca_file=environ.get("PULSE_SMTP_CA_FILE") or None,
        one_click_unsubscribe=environ.get("PULSE_SMTP_ONE_CLICK_UNSUBSCRIBE", "") == "1",
    )


def build_email(message: OutgoingMessage, settings: SmtpSettings) -> EmailMessage:
    """The MIME message for ``message``: multipart/alternative (plain, then HTML) when
    there is HTML, plain text otherwise."""
    email = EmailMessage()
    email["From"] = settings.from_address
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = Address(addr_spec=parseaddr(settings.from_address)[1]).domain
    email["Message-ID"] = make_msgid(domain=domain)
    # Out-of-office replies to every invitation would flood the From mailbox.
    email["Auto-Submitted"] = "auto-generated"
    email["X-Pulse-Reference"] = message.reference
    if message.unsubscribe_link:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_link}>"
        if settings.one_click_unsubscribe:
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


class EmailChannel:
    """Sends through one SMTP connection, kept open between messages and reopened
    when the server has dropped it. Not thread-safe: one per dispatching thread;
    call :meth:`close` (or use it as a context manager) when done."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    @property
    def name(self) -> str:
        return "email"

    def __enter__(self) -> EmailChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()

    def send(self, message: OutgoingMessage) -> SendResult:
        email = build_email(message, self.settings)
        try:
            connection = self._connect()
            connection.send_message(email, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as error:
            self._drop()
            code, reply = next(iter(error.recipients.values()))
            return _failure(code, reply, "recipient refused")
        except smtplib.SMTPResponseException as error:
            # Sender refused, data refused, authentication failed, ...
            self._drop()
            return _failure(error.smtp_code, error.smtp_error, "server refused the message")
        except (smtplib.SMTPException, OSError) as error:
            # Refused or dropped connections, timeouts, TLS failures: the server
            # may answer next time. A drop after the message body was sent could
            # mean it was delivered; SMTP cannot say.
            self._drop()
            return SendResult.failed(f"could not reach the mail server: "
                                     f"{type(error).__name__}: {error}", transient=True)
        return SendResult.sent(provider_id=str(email["Message-ID"]))

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            try:
                if self._connection.noop()[0] == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ca_file)
        connection: smtplib.SMTP
        if settings.security == "ssl":
            connection = smtplib.SMTP_SSL(settings.host, settings.port,
                                          timeout=settings.timeout, context=context)
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.security == "starttls":
                connection.starttls(context=context)
            if settings.username is not None and settings.password is not None:
                connection.login(settings.username, settings.password)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _failure(code: int, reply: bytes | str, what: str) -> SendResult:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return SendResult.failed(f"{what}: {code} {text}",
                             transient=smtp_code_is_transient(code))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def account_mailer(settings: SmtpSettings) -> Callable[[AccountMessage], None]:
    """Sends account emails (password reset links) over SMTP, one connection each; a
    failure is logged, as the person is told the same whether or not it went."""

    def send(message: AccountMessage) -> None:
        with EmailChannel(settings) as channel:
            result = channel.send(OutgoingMessage(
                to=message.to, subject=message.subject, text=message.text, html=None,
                kind="account", reference="account"))
        if not result.ok:
            logging.getLogger(__name__).error("An account email was not sent: %s",
                                              result.reason)

    return send
