"""A queued message holds no working link: its body, with the personal link, is built
when it is sent. Anyone reading the message table before then finds nothing to open."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from survey_app.core.clock import LONDON
from survey_app.models import Invitation, Message, Wave
from survey_app.scheduling import dispatch
from survey_app.scheduling.channels.base import OutgoingMessage, SendResult
from survey_app.scheduling.channels.outbox import OutboxChannel
from survey_app.scheduling.channels.routing import Channels
from tests.scheduling.conftest import BASE, at

LINK = re.compile(r"/p/([A-Za-z0-9_-]+)")


class Killed(BaseException):
    """Like a SIGKILL at that moment: nothing after it is recorded."""


class Email:
    """An email channel that keeps what it is given (what a provider would deliver)."""

    name = "email"

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        self.messages.append(message)
        return SendResult.sent(provider_id=f"id-{len(self.messages)}")


def _rows(session) -> list[Message]:
    session.expire_all()
    return list(session.exec(select(Message).order_by(col(Message.id))).all())


def _opens_a_pulse(client, token: str) -> bool:
    page = client.get(f"/p/{token}")
    return page.status_code == 200 and b'name="recommend_work"' in page.data


def _stored_links(rows: list[Message]) -> list[str]:
    found = []
    for message in rows:
        for text in (message.subject, message.body_text, message.body_html):
            found += LINK.findall(text or "")
    return found


def _assert_no_stored_link_opens_a_pulse(client, session) -> list[Message]:
    rows = _rows(session)
    assert rows
    for token in _stored_links(rows):
        assert not _opens_a_pulse(client, token), f"a stored link opens a pulse: {token}"
    for message in rows:
        if message.status == "pending":
            assert message.body_text is None and message.body_html is None
    return rows


def _sent_link(text: str) -> str:
    return text.split(f"{BASE}/p/")[1].split()[0]


def test_queued_invitations_and_reminders_hold_no_working_link(
        run, session, client, make_team, schedule_for, pages_at):
    email = Email()
    channels = Channels(email=email)
    schedule_for(make_team(size=4))
    # A late open in quiet hours: invited now, sent at 08:00 tomorrow.
    report = run(at("2026-09-01T21:30"), channels=channels)
    assert len(report.opened) == 1 and report.dispatch.sent == 0 and email.messages == []
    pages_at(at("2026-09-01T21:31"))
    rows = _assert_no_stored_link_opens_a_pulse(client, session)
    assert {(m.kind, m.status) for m in rows} == {("invitation", "pending")} and len(rows) == 4
    assert all(m.subject for m in rows)  # what holds no secret is kept

    # Sent: each delivered link opens the pulse, as before.
    sent = run(at("2026-09-02T08:00"), channels=channels)
    assert sent.dispatch.sent == 4 and len(email.messages) == 4
    pages_at(at("2026-09-02T08:01"))
    invitation_links = {m.to: _sent_link(m.text) for m in email.messages}
    assert all(_opens_a_pulse(client, token) for token in invitation_links.values())
    assert all(f"{BASE}/unsubscribe/" in m.text for m in email.messages)
    assert all(m.html and _sent_link(m.html.replace('"', " ")) == invitation_links[m.to]
               for m in email.messages)

    # The reminder is queued in quiet hours: pending, and again nothing to open.
    session.expire_all()
    [wave] = session.exec(select(Wave)).all()
    due = wave.reminder_due_at.replace(tzinfo=UTC).astimezone(LONDON)
    quiet = due.replace(hour=21, minute=0)
    assert quiet > due
    queued = run(quiet.astimezone(UTC), channels=channels)
    assert queued.reminders == 4 and queued.dispatch.sent == 0
    pages_at(quiet.astimezone(UTC) + timedelta(minutes=1))
    rows = _assert_no_stored_link_opens_a_pulse(client, session)
    assert sorted(m.status for m in rows if m.kind == "reminder") == ["pending"] * 4
    reminder_hashes = {i.reminder_token_hash for i in session.exec(select(Invitation))}
    assert reminder_hashes == {None}  # issued only when sent

    # Sent the next morning: the reminder's link works, and so does the invitation's.
    morning = (quiet + timedelta(days=1)).replace(hour=8)
    if morning.weekday() >= 5:
        morning += timedelta(days=7 - morning.weekday())
    assert run(morning.astimezone(UTC), channels=channels).dispatch.sent == 4
    pages_at(morning.astimezone(UTC) + timedelta(minutes=1))
    reminders = [m for m in email.messages if m.kind == "reminder"]
    assert len(reminders) == 4
    for message in reminders:
        token = _sent_link(message.text)
        assert token != invitation_links[message.to]
        assert _opens_a_pulse(client, token)
        assert _opens_a_pulse(client, invitation_links[message.to])


def test_queued_outbox_messages_hold_no_body_until_sent(run, session, client, make_team,
                                                         schedule_for, outbox, pages_at):
    """The development outbox keeps a body once it is sent (to be clicked), never before."""
    schedule_for(make_team(size=2))
    run(at("2026-09-01T21:30"))
    pages_at(at("2026-09-01T21:31"))
    rows = _assert_no_stored_link_opens_a_pulse(client, session)
    assert [m.status for m in rows] == ["pending"] * 2
    run(at("2026-09-02T08:00"))
    pages_at(at("2026-09-02T08:01"))
    rows = _rows(session)
    assert [m.status for m in rows] == ["sent"] * 2
    for message, delivered in zip(rows, outbox.messages, strict=True):
        assert message.body_text == delivered.text and message.body_html == delivered.html
        assert _opens_a_pulse(client, _sent_link(message.body_text or ""))


def test_a_message_in_flight_stores_only_its_new_link_hash(run, session, make_team,
                                                            schedule_for):
    """The commit that marks a message "sending" holds the hash of the link it carries,
    and no body."""
    from survey_app.core import tokens

    schedule_for(make_team(size=2))
    seen: list[tuple[Message, str]] = []

    def check(message: Message, _result: Any) -> None:
        session.expire_all()
        stored = session.get(Message, message.id)
        assert stored.status == "sending" and stored.body_text is None
        invitation = session.exec(select(Invitation).where(
            Invitation.wave_id == message.wave_id,
            Invitation.staff_member_id == message.staff_member_id)).one()
        seen.append((stored, invitation.token_hash))
        session.rollback()  # hold no snapshot while the scheduler writes

    box = OutboxChannel()
    run(at("2026-09-01T09:00"), channels=Channels(outbox=box), after_send=check)
    assert len(seen) == 2
    for (_stored, token_hash), delivered in zip(seen, box.messages, strict=True):
        assert token_hash == tokens.hash_secret(_sent_link(delivered.text))


def test_a_resent_unknown_message_carries_a_new_working_link(
        run, session, client, make_team, schedule_for, outbox, pages_at):
    schedule_for(make_team(size=3))

    def die(_message: Message, _result: Any) -> None:
        raise Killed()

    with pytest.raises(Killed):
        run(at("2026-09-01T09:00"), after_send=die)
    run(at("2026-09-01T09:05"))
    session.expire_all()
    [unknown] = session.exec(select(Message).where(Message.status == "unknown")).all()
    assert unknown.body_text is None and unknown.body_html is None  # nothing to leak
    first = next(m for m in outbox.messages if m.to == unknown.address)
    pages_at(at("2026-09-01T09:06"))
    assert _opens_a_pulse(client, _sent_link(first.text))  # it may have arrived

    dispatch.resend_unknown(session, message_id=unknown.id or 0, now=at("2026-09-01T09:07"))
    session.commit()
    assert run(at("2026-09-01T09:10")).dispatch.sent == 1
    again = [m for m in outbox.messages if m.to == unknown.address]
    assert len(again) == 2
    pages_at(at("2026-09-01T09:11"))
    assert _opens_a_pulse(client, _sent_link(again[1].text))
    # The new link replaces the one that may have arrived.
    assert _sent_link(again[1].text) != _sent_link(first.text)
    assert not _opens_a_pulse(client, _sent_link(first.text))
