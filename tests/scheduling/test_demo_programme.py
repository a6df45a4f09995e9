"""The issue's walk-through on the demo: set a schedule, tick, and watch the wave's life."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from survey_app.core.clock import utcnow
from survey_app.models import Invitation, Message, Wave


def _first_tuesday_of_next_month() -> date:
    today = utcnow().date()
    month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return month + timedelta(days=(1 - month.weekday()) % 7)


def test_the_demo_programme_end_to_end(runner, session):
    assert runner.invoke(args=["demo", "load", "--links", "0"]).exit_code == 0
    opening = _first_tuesday_of_next_month()
    result = runner.invoke(args=["schedule", "set", "--int", "riverside", "--team", "social-care",
                                 "--cadence", "monthly", "--weekday", "tue", "--nth", "1",
                                 "--start", f"{opening}"])
    assert result.exit_code == 0, result.output
    assert "12 invitations and at most 24 messages a year" in result.output

    opened = runner.invoke(args=["scheduler", "tick", "--at", f"{opening}T09:00"])
    assert "opened 1 wave(s)" in opened.output, opened.output
    session.expire_all()
    wave = session.exec(select(Wave).where(col(Wave.schedule_id).is_not(None))).one()
    outbox = session.exec(select(Message).where(Message.wave_id == wave.id)).all()
    invited = session.exec(select(Invitation).where(Invitation.wave_id == wave.id)).all()
    assert outbox and all(m.channel == "outbox" and m.status == "sent" for m in outbox)
    assert all("/p/" in (m.body_text or "") for m in outbox)  # kept: it is the dev outbox
    # Staff with no email or phone get a code card instead of a message.
    assert len(outbox) < len(invited)

    # Two people answer (marked used, as the pulse page does), then the reminder goes.
    for invitation in invited[:2]:
        invitation.used = True
        session.add(invitation)
    session.commit()
    reminded = runner.invoke(args=["scheduler", "tick", "--at", f"{opening + timedelta(days=7)}"
                                   "T09:00"])
    assert "queued" in reminded.output
    session.expire_all()
    reminders = session.exec(select(Message).where(Message.wave_id == wave.id,
                                                   Message.kind == "reminder")).all()
    answered = {i.staff_member_id for i in invited[:2]}
    assert reminders and not answered & {m.staff_member_id for m in reminders}

    closed = runner.invoke(args=["scheduler", "tick", "--at", f"{opening + timedelta(days=14)}"
                                 "T09:00"])
    assert "closed 1 wave(s)" in closed.output
    session.expire_all()
    assert session.get(Wave, wave.id).closed_at is not None
