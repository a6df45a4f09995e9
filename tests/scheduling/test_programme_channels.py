"""The programme through real channels: an SMTP server and a Notify stand-in on loopback,
and a scheduler process that dies mid-dispatch."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import Message, StaffMember
from survey_app.scheduling.channels.email import EmailChannel, SmtpSettings
from survey_app.scheduling.channels.routing import Channels
from survey_app.scheduling.channels.sms import NotifySettings, NotifySmsChannel
from tests.scheduling.conftest import API_KEY, BASE, INVITATION_TEMPLATE, REMINDER_TEMPLATE, at

ROOT = Path(__file__).resolve().parents[2]
FROM = "Pulse <pulse@riverside-int.example>"


def _smtp(controller) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=controller.port, security="none",
                        from_address=FROM, timeout=5.0)


def test_smtp_and_notify_receive_exactly_the_expected_messages(
        run, session, client, make_team, schedule_for, start_server, notify, hidden_fields,
        pages_at):
    team = make_team(size=5)
    members = session.exec(select(StaffMember).order_by(StaffMember.id)).all()
    for member in members[3:]:  # two people with a mobile but no email
        member.email, member.mobile = None, f"+4477009001{member.id:02d}"
        session.add(member)
    session.commit()
    schedule_for(team)
    controller, smtp = start_server()
    sms_settings = NotifySettings(api_key=API_KEY, invitation_template_id=INVITATION_TEMPLATE,
                                  reminder_template_id=REMINDER_TEMPLATE, base_url=notify.url,
                                  timeout=5.0)
    with EmailChannel(_smtp(controller)) as email, NotifySmsChannel(sms_settings) as sms:
        channels = Channels(email=email, sms=sms)
        run(at("2026-09-01T09:00"), channels=channels)
        received = [smtp.received(i) for i in range(len(smtp.envelopes))]
        assert sorted(m["To"] for m in received) == sorted(m.email for m in members[:3])
        assert all(m["List-Unsubscribe"] for m in received)
        texts = [r["json"]["personalisation"]["message"] for r in notify.requests]
        assert [r["json"]["phone_number"] for r in notify.requests] == [
            m.mobile for m in members[3:]]
        assert all(f"{BASE}/p/" in text for text in texts)
        assert {r["json"]["template_id"] for r in notify.requests} == {INVITATION_TEMPLATE}
        # One person answers through the emailed link.
        body = received[0].get_body(preferencelist=("plain",)).get_content()
        link = body.split(f"{BASE}")[1].split()[0]
        pages_at(at("2026-09-02T10:00"))
        page = client.get(link)
        client.post(link, data={**hidden_fields(page.data), "recommend_care": "likely"})
        run(at("2026-09-08T09:00"), channels=channels)
        reminders = [smtp.received(i) for i in range(3, len(smtp.envelopes))]
        assert sorted(m["To"] for m in reminders) == sorted(
            m.email for m in members[:3] if m.email != received[0]["To"])
        assert all(m["Subject"].startswith("Reminder:") for m in reminders)
        assert [r["json"]["template_id"] for r in notify.requests[2:]] == [REMINDER_TEMPLATE] * 2
    # Bodies carrying links are gone once sent.
    session.expire_all()
    assert all(m.body_text is None and m.body_html is None
               for m in session.exec(select(Message)))


@pytest.mark.parametrize("crash_after", [5, 52])
def test_killing_the_scheduler_mid_dispatch_affects_only_the_message_in_flight(
        app, run, session, make_team, schedule_for, start_server, crash_after):
    schedule_for(make_team(size=60))
    controller, smtp = start_server()
    env = {
        **os.environ,
        "PULSE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PULSE_SECRET_KEY": app.config["SECRET_KEY"],
        "PULSE_BASE_URL": BASE,
        "PULSE_SMTP_HOST": "127.0.0.1", "PULSE_SMTP_PORT": str(controller.port),
        "PULSE_SMTP_SECURITY": "none", "PULSE_SMTP_FROM": FROM,
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "scheduling" / "crash_tick.py"),
         "2026-09-01T09:00", str(crash_after)], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 70, result.stderr[-2000:]
    assert len(smtp.envelopes) == crash_after
    with EmailChannel(_smtp(controller)) as email:
        # The dead process still holds an unexpired lease, but it provably is gone
        # (same boot, its pid not running): the restarted scheduler takes over at once.
        report = run(at("2026-09-01T09:01"), channels=Channels(email=email))
    assert report.acted
    assert report.dispatch.marked_unknown == 1 and report.dispatch.sent == 60 - crash_after
    delivered = Counter(address for envelope in smtp.envelopes for address in envelope.rcpt_tos)
    assert len(delivered) == 60 and max(delivered.values()) == 1
    session.expire_all()
    states = Counter(m.status for m in session.exec(select(Message)))
    assert states == {"unknown": 1, "sent": 59}


def test_a_scheduler_on_another_machine_waits_for_the_lease_to_expire(
        run, session, make_team, schedule_for):
    from sqlalchemy import update

    from survey_app.models import SchedulerLease

    schedule_for(make_team(size=2))
    assert run(at("2026-09-01T08:00"), holder="elsewhere").acted
    # As if still held by a process on another boot (another machine).
    session.execute(update(SchedulerLease).values(
        holder="elsewhere", boot_id="00000000-0000-0000-0000-000000000000",
        expires_at=datetime(2999, 1, 1, tzinfo=UTC)))
    session.commit()
    assert run(at("2026-09-01T09:00")).acted is False
    _expire_lease(session)  # ...as if those minutes had passed
    assert run(at("2026-09-01T09:06")).acted


def test_the_cli_tick_at_a_chosen_time(runner, make_team, schedule_for):
    schedule_for(make_team(size=3), start_date=date(2026, 12, 1))
    result = runner.invoke(args=["scheduler", "tick", "--at", "2026-12-01T09:00"])
    assert result.exit_code == 0, result.output
    assert "Tick at 2026-12-01 09:00 UTC: opened 1 wave(s)" in result.output
    assert "sent 3" in result.output
    bad = runner.invoke(args=["scheduler", "tick", "--at", "tuesday"])
    assert bad.exit_code != 0 and "is not a date-time" in bad.output


def _expire_lease(session) -> None:
    from sqlalchemy import update

    from survey_app.models import SchedulerLease

    session.execute(update(SchedulerLease).values(expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    session.commit()


def test_a_simulated_tick_does_not_lock_out_the_live_scheduler(run, make_team, schedule_for):
    schedule_for(make_team(size=2))
    assert run(at("2026-12-01T09:00"), holder="operator").acted
    # The live scheduler, ticking on the real clock straight after, still acts.
    assert run(utcnow(), holder="live-scheduler").acted
