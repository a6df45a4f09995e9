"""The wording of invitations and reminders, for email (plain and HTML) and SMS.

Plain English in the NHS voice: short, the personal link on its own line, and
no personal data but the first name (a message may be read on a shared
screen or a locked phone). Times follow the NHS style guide: "9am",
"5:30pm", "midday", "Tuesday 1 December 2026", always in UK time.
SMS text before the link stays within 160 characters, one SMS fragment, and
uses only characters in the GSM alphabet (no curly quotes or dashes), which
would otherwise cut a fragment to 70 characters. Each message gives the address
of the staff privacy notice: an SMS in its first line, where it fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from survey_app.core.clock import LONDON, as_utc

SMS_TEXT_LIMIT = 160
# Titles that can start a name but are not a first name.
_TITLES = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "rev"}


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One message in each form: ``subject``, ``text`` and ``html`` for email, ``sms``
    for a text message."""

    subject: str
    text: str
    html: str
    sms: str


def first_name(name: str) -> str:
    """The first name to greet someone by, or "" when there is none to find.

    Copes with ESR's "Surname, Forename" form and a leading title ("Dr Ada Okafor").
    """
    surname, comma, rest = name.partition(",")
    words = (rest if comma else surname).split()
    while words and words[0].lower().rstrip(".") in _TITLES:
        words = words[1:]
    return words[0] if words else ""


def format_time(moment: datetime) -> str:
    """A UK time in NHS style: "9am", "5:30pm", "midday", "midnight"."""
    local = as_utc(moment).astimezone(LONDON)
    if local.minute == 0 and local.hour in (0, 12):
        return "midnight" if local.hour == 0 else "midday"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def format_deadline(moment: datetime, *, short: bool = False) -> str:
    """When a pulse closes, in UK time, to follow "closes": "at 9am on Tuesday 15
    December 2026", or for SMS "at 9am Tue 15 Dec". Closing at midnight reads as
    "at the end of" the day before, since "midnight on Tuesday" is read both ways."""
    local = as_utc(moment).astimezone(LONDON)
    if local.hour == 0 and local.minute == 0:
        return f"at the end of {_day(local - timedelta(days=1), short=short)}"
    joiner = " " if short else " on "
    return f"at {format_time(local)}{joiner}{_day(local, short=short)}"


def last_day(moment: datetime) -> str:
    """The last day a pulse can be answered, "Tuesday 15 December", for subject lines."""
    local = as_utc(moment).astimezone(LONDON)
    if local.hour == 0 and local.minute == 0:
        local -= timedelta(days=1)
    return f"{local:%A} {local.day} {local:%B}"


def _day(local: datetime, *, short: bool) -> str:
    if short:
        return f"{local:%a} {local.day} {local:%b}"
    return f"{local:%A} {local.day} {local:%B %Y}"


def invitation_subject(team_name: str) -> str:
    """An invitation's subject line: it holds no link, so it is stored when queued."""
    return f"Your 1-minute team pulse for {team_name}"


def reminder_subject(team_name: str, closes_at: datetime) -> str:
    """The reminder's subject line (no link)."""
    return f"Reminder: your team pulse for {team_name} is open until {last_day(closes_at)}"


def invitation_message(
    name: str, team_name: str, link: str, closes_at: datetime, unsubscribe_link: str,
    *, privacy_link: str | None = None
) -> RenderedMessage:
    """An invitation to a pulse."""
    hello = _hello(name)
    deadline = format_deadline(closes_at)
    text = (
        f"{hello}\n\n"
        f"Please answer a short pulse survey about working in {team_name}. "
        "It takes about a minute.\n\n"
        "Your answers are anonymous: nobody can see who gave them. "
        "This link is just for you and works once.\n\n"
        f"{link}\n\n"
        f"The pulse closes {deadline}.\n\n"
        f"{_privacy_text(privacy_link)}"
        f"If you do not want reminders, use this link:\n{unsubscribe_link}\n\n"
        "This email was sent automatically. Please do not reply to it.\n"
    )
    html = _html(
        hello,
        [f"Please answer a short pulse survey about working in {escape(team_name)}. "
         "It takes about a minute.",
         "Your answers are anonymous: nobody can see who gave them. "
         "This link is just for you and works once."],
        link,
        [f"The pulse closes {escape(deadline)}."],
        unsubscribe_link,
        privacy_link=privacy_link,
    )
    short = format_deadline(closes_at, short=True)
    sms = _fit_sms(
        link, privacy_link,
        f"{hello} please answer the 1-minute pulse for {team_name}. "
        f"It is anonymous and closes {short}.",
        f"{hello} please answer your 1-minute team pulse. It is anonymous and closes {short}.",
        f"Please answer your 1-minute team pulse. It closes {short}.",
    )
    return RenderedMessage(invitation_subject(team_name), text, html, sms)


def reminder_message(
    name: str, team_name: str, link: str, closes_at: datetime, unsubscribe_link: str,
    *, privacy_link: str | None = None
) -> RenderedMessage:
    """The one reminder, sent only to people who have not answered."""
    hello = _hello(name)
    deadline = format_deadline(closes_at)
    text = (
        f"{hello}\n\n"
        f"There is still time to answer the pulse survey about working in {team_name}. "
        "It takes about a minute, and your answers are anonymous.\n\n"
        f"{link}\n\n"
        f"The pulse closes {deadline}. This is the only reminder we will send.\n\n"
        f"{_privacy_text(privacy_link)}"
        f"If you do not want reminders in future, use this link:\n{unsubscribe_link}\n\n"
        "This email was sent automatically. Please do not reply to it.\n"
    )
    html = _html(
        hello,
        [f"There is still time to answer the pulse survey about working in "
         f"{escape(team_name)}. It takes about a minute, and your answers are anonymous."],
        link,
        [f"The pulse closes {escape(deadline)}. This is the only reminder we will send."],
        unsubscribe_link,
        unsubscribe_intro="If you do not want reminders in future",
        privacy_link=privacy_link,
    )
    short = format_deadline(closes_at, short=True)
    sms = _fit_sms(
        link, privacy_link,
        f"{hello} a reminder: the 1-minute pulse for {team_name} closes {short}. "
        "Your answers are anonymous.",
        f"{hello} a reminder: your 1-minute team pulse closes {short}. "
        "Your answers are anonymous.",
        f"A reminder: your 1-minute team pulse closes {short}.",
    )
    return RenderedMessage(reminder_subject(team_name, closes_at), text, html, sms)


def _hello(name: str) -> str:
    first = first_name(name)
    return f"Hello {first}," if first else "Hello,"


def _privacy_text(privacy_link: str | None) -> str:
    return f"How Pulse uses your data:\n{privacy_link}\n\n" if privacy_link else ""


def _fit_sms(link: str, privacy_link: str | None, *texts: str) -> str:
    """The first of ``texts`` (longest first) that fits one SMS, then the link.

    With ``privacy_link``, each text is tried first with the notice's address after it
    (the link's line holds the link alone); only if none fits does the SMS go without.
    """
    with_privacy = [f"{text} Privacy: {privacy_link}" for text in texts] if privacy_link else []
    for text in [*with_privacy, *texts]:
        if len(text) <= SMS_TEXT_LIMIT:
            return f"{text}\n{link}"
    return f"{texts[-1][:SMS_TEXT_LIMIT]}\n{link}"


def _html(hello: str, before: list[str], link: str, after: list[str], unsubscribe_link: str,
          *, unsubscribe_intro: str = "If you do not want reminders",
          privacy_link: str | None = None) -> str:
    paragraphs = "".join(f"<p>{paragraph}</p>\n" for paragraph in before)
    closing = "".join(f"<p>{paragraph}</p>\n" for paragraph in after)
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head><meta charset="utf-8"></head>\n'
        '<body style="font-family: Arial, sans-serif; font-size: 19px; line-height: 1.5;">\n'
        f"<p>{escape(hello)}</p>\n"
        f"{paragraphs}"
        f'<p><a href="{escape(link)}">{escape(link)}</a></p>\n'
        f"{closing}"
        + (f'<p><a href="{escape(privacy_link)}">How Pulse uses your data</a>.</p>\n'
           if privacy_link else "")
        + f'<p>{unsubscribe_intro}, <a href="{escape(unsubscribe_link)}">'
        "stop reminders</a>.</p>\n"
        "<p>This email was sent automatically. Please do not reply to it.</p>\n"
        "</body>\n</html>\n"
    )
