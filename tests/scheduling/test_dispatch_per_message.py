"""A scheduler that dies mid-dispatch leaves at most the one message in flight uncertain;
the rest stay pending and go, once each, on the next run. Unknown ones are never resent
on their own: only an admin's Resend re-queues one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlmodel import select

from survey_app.models import Message
from tests.scheduling.conftest import at


class Killed(BaseException):
    """Like a SIGKILL at that moment: nothing after it is recorded."""


def _states(session) -> Counter[str]:
    session.expire_all()
    return Counter(m.status for m in session.exec(select(Message)))


@pytest.mark.parametrize("crash_after", [1, 3, 50, 51])
def test_a_crash_after_k_sends_leaves_only_the_message_in_flight_unknown(
        run, session, make_team, schedule_for, outbox, crash_after):
    schedule_for(make_team(size=70))
    sends = {"count": 0}

    def die(_message: Message, _result: Any) -> None:
        sends["count"] += 1
        if sends["count"] == crash_after:
            raise Killed()

    with pytest.raises(Killed):
        run(at("2026-09-01T09:00"), after_send=die)
    assert len(outbox.messages) == crash_after
    # Before the restart: the sent ones are recorded, one is in flight, the rest wait.
    assert _states(session) == Counter({"sent": crash_after - 1, "sending": 1,
                                        "pending": 70 - crash_after})
    report = run(at("2026-09-01T09:05"))
    assert report.dispatch.marked_unknown == 1
    assert report.dispatch.sent == 70 - crash_after
    assert _states(session) == {"sent": 69, "unknown": 1}
    delivered = Counter(m.to for m in outbox.messages)
    assert len(delivered) == 70 and max(delivered.values()) == 1
    # Never resent on its own.
    again = run(at("2026-09-01T10:00"))
    assert again.dispatch.sent == 0 and len(outbox.messages) == 70
    assert _states(session) == {"sent": 69, "unknown": 1}


def test_an_unknown_message_keeps_no_body(run, session, make_team, schedule_for, outbox):
    """Its body was built only to be sent: a resend builds a new one, with a new link."""
    schedule_for(make_team(size=3))

    def die(_message: Message, _result: Any) -> None:
        raise Killed()

    with pytest.raises(Killed):
        run(at("2026-09-01T09:00"), after_send=die)
    run(at("2026-09-01T09:05"))
    session.expire_all()
    [unknown] = session.exec(select(Message).where(Message.status == "unknown")).all()
    assert unknown.body_text is None and unknown.body_html is None
    assert "may or may not have been delivered" in (unknown.failure_reason or "")


def test_bodies_stored_by_an_earlier_version_are_erased_unless_sent(
        run, session, make_team, schedule_for, outbox):
    """Rows queued before bodies were built at send time held links: the next dispatch
    erases them from every message not sent (the outbox's sent ones stay readable)."""
    schedule_for(make_team(size=3))
    run(at("2026-09-01T09:00"))
    session.expire_all()
    sent, pending, unknown = session.exec(select(Message).order_by(Message.id)).all()
    pending.status, unknown.status = "pending", "unknown"
    pending.due_at = at("2026-09-30T09:00")
    for message in (pending, unknown):
        message.body_text, message.body_html = "old http://pulse.test/p/x", "<p>old</p>"
        session.add(message)
    session.commit()
    run(at("2026-09-01T09:05"))
    session.expire_all()
    assert session.get(Message, sent.id).body_text  # the development outbox keeps it
    for message in (pending, unknown):
        stored = session.get(Message, message.id)
        assert stored.body_text is None and stored.body_html is None
