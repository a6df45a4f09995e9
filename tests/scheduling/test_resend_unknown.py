"""The messages page shows what a crash left "unknown", with a Resend for each: a CSRF-
protected, audited POST that re-queues that one message, and only that one."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any
from unittest import mock

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, Message
from tests.scheduling.conftest import at


class Killed(BaseException):
    pass


@pytest.fixture
def admin(client, make_user, login):
    make_user("admin")
    assert login(client, "admin@example.test").status_code == 302
    # The admin pages see the simulated time, a few minutes after the crash.
    with mock.patch("survey_app.scheduling.admin_views.utcnow",
                    return_value=at("2026-09-01T09:07")):
        yield client


@pytest.fixture
def one_unknown(run, session, make_team, schedule_for, outbox) -> Message:
    """A wave of four whose first message a crash left unknown; the rest sent."""
    schedule_for(make_team(size=4))

    def die(_message: Message, _result: Any) -> None:
        raise Killed()

    with pytest.raises(Killed):
        run(at("2026-09-01T09:00"), after_send=die)
    run(at("2026-09-01T09:05"))
    session.expire_all()
    [unknown] = session.exec(select(Message).where(Message.status == "unknown")).all()
    assert len(outbox.messages) == 4
    return unknown


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        rb'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


def test_unknown_messages_have_a_resend_that_requeues_that_one(
        admin, one_unknown, run, session, outbox):
    page = admin.get("/admin/messages")
    assert page.status_code == 200
    text = page.data.decode()
    assert "Resend" in text and text.count('name="message_id"') == 1
    assert f'value="{one_unknown.id}"' in text
    assert "/p/" not in text  # the body is still never shown
    response = admin.post("/admin/messages/resend",
                          data={"csrf_token": _csrf(page.data), "message_id": one_unknown.id})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/messages")
    followed = admin.get(response.headers["Location"]).data.decode()
    assert "queued to be sent again" in followed
    session.expire_all()
    message = session.get(Message, one_unknown.id)
    assert message.status == "pending" and message.failure_reason is None
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "message.resend")).all()
    assert event.target == str(one_unknown.id) and event.user_id is not None
    assert json.loads(event.detail or "{}") == {"kind": "invitation", "wave_id": message.wave_id}
    # The scheduler sends it once more, and nothing else.
    report = run(at("2026-09-01T09:10"))
    assert report.dispatch.sent == 1
    assert Counter(m.to for m in outbox.messages)[one_unknown.address] == 2
    assert len(outbox.messages) == 5
    session.expire_all()
    assert Counter(m.status for m in session.exec(select(Message))) == {"sent": 4}
    # Not unknown any more: a second Resend does nothing.
    again = admin.post("/admin/messages/resend",
                       data={"csrf_token": _csrf(page.data), "message_id": one_unknown.id})
    assert again.status_code == 302
    assert "not waiting to be resent" in admin.get("/admin/messages").data.decode()
    run(at("2026-09-01T09:15"))
    assert len(outbox.messages) == 5


def test_resend_needs_the_csrf_token(admin, one_unknown, session):
    response = admin.post("/admin/messages/resend", data={"message_id": one_unknown.id})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Message, one_unknown.id).status == "unknown"
    assert not session.exec(select(AuditEvent).where(
        AuditEvent.action == "message.resend")).all()


def test_failed_messages_and_closed_pulses_are_not_resent(admin, one_unknown, run, session):
    failed = Message(**{**one_unknown.model_dump(exclude={"id"}), "status": "failed",
                        "body_text": None, "failure_reason": "550 Mailbox unavailable"})
    session.add(failed)
    session.commit()
    page = admin.get("/admin/messages")
    assert page.data.decode().count('name="message_id"') == 1  # only the unknown one
    token = _csrf(page.data)
    admin.post("/admin/messages/resend", data={"csrf_token": token, "message_id": failed.id})
    session.expire_all()
    assert session.get(Message, failed.id).status == "failed"
    # Once the pulse has closed, the link is dead: no Resend.
    run(at("2026-09-20T09:00"))
    assert 'name="message_id"' not in admin.get("/admin/messages").data.decode()
    response = admin.post("/admin/messages/resend",
                          data={"csrf_token": token, "message_id": one_unknown.id})
    assert response.status_code == 302
    assert "can no longer be resent" in admin.get("/admin/messages").data.decode()
    session.expire_all()
    assert session.get(Message, one_unknown.id).status == "unknown"
    assert not session.exec(select(AuditEvent).where(
        AuditEvent.action == "message.resend")).all()


def test_resend_is_for_admins_only(client, make_user, login, one_unknown, session):
    make_user("lead", ints=("test-int",))
    assert login(client, "lead@example.test").status_code == 302
    response = client.post("/admin/messages/resend", data={"message_id": one_unknown.id})
    assert response.status_code in (302, 400, 403)
    session.expire_all()
    assert session.get(Message, one_unknown.id).status == "unknown"
