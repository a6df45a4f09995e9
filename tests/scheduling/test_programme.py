"""The programme over time: tick(now) opens, invites, reminds, closes and sends, once.

Every test drives ``tick`` with explicit times, so weeks pass in milliseconds.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from survey_app.core.clock import LONDON
from survey_app.models import Invitation, Message, Wave
from survey_app.scheduling import schedules, tick
from survey_app.scheduling.channels.routing import Channels
from tests.scheduling.conftest import BASE, at


def _messages(session) -> list[Message]:
    session.expire_all()
    return session.exec(select(Message).order_by(col(Message.id))).all()


def _waves(session) -> list[Wave]:
    session.expire_all()
    return session.exec(select(Wave).order_by(col(Wave.id))).all()


def _moments_that_matter() -> list[datetime]:
    """The ticks of the quarter below: the scheduler process ticks every few minutes, but
    only these moments can change what happens, so ticking at them alone is the same run.

    For each first Tuesday: 08:00 UK time (an hour early: nothing may open), 09:00 (the
    wave opens and invites), 07:00 and 09:00 a week later (the reminder is not due, then
    due), a fortnight later at 08:59 and 09:00 (still open, then closed); and quiet hours
    in each window (21:00 on the opening day, the Saturday noon, 07:00 on the Monday).
    Each moment is a UK wall-clock time, so the clock change moves them in UTC.
    """
    moments = []
    for first_tuesday in (date(2026, 9, 1), date(2026, 10, 6), date(2026, 11, 3),
                          date(2026, 12, 1)):
        for days, clock in ((0, "08:00"), (0, "09:00"), (0, "21:00"), (4, "12:00"),
                            (6, "07:00"), (7, "07:00"), (7, "09:00"), (14, "08:59"),
                            (14, "09:00")):
            moment = at(f"{first_tuesday + timedelta(days=days)}T{clock}")
            if moment < at("2026-12-02T00:00"):
                moments.append(moment)
    return sorted(moments)


def test_a_quarter_of_monthly_pulses_across_the_clock_change(run, session, make_team,
                                                             schedule_for):
    """First Tuesday monthly at 09:00 UK time, 14-day window, one reminder, quiet
    20:00-08:00 and weekends; from September to the start of December 2026, through
    the end of British Summer Time on 25 October."""
    team = make_team(size=6, offline=1)
    schedule_for(team)
    for moment in _moments_that_matter():
        run(moment)
    waves = _waves(session)
    # 09:00 UK time: 08:00 UTC in summer (BST), 09:00 UTC after the clocks go back.
    assert [w.opens_at.replace(tzinfo=UTC) for w in waves] == [
        datetime(2026, 9, 1, 8, tzinfo=UTC), datetime(2026, 10, 6, 8, tzinfo=UTC),
        datetime(2026, 11, 3, 9, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)]
    assert all(w.closed_at is not None for w in waves[:3]) and waves[3].closed_at is None
    messages = _messages(session)
    by_wave = Counter((m.wave_id, m.kind) for m in messages)
    for wave in waves[:3]:
        # Five people have an email; nobody answered, so each gets one reminder.
        assert by_wave[(wave.id, "invitation")] == 5 and by_wave[(wave.id, "reminder")] == 5
    for message in messages:
        if message.status != "sent":
            continue
        local = message.sent_at.replace(tzinfo=UTC).astimezone(LONDON)
        assert 8 <= local.hour < 20 and local.weekday() < 5, (message.kind, local)
    # Reminders go mid-window: 7 days after opening, moved out of quiet hours.
    reminder = next(m for m in messages if m.kind == "reminder" and m.wave_id == waves[1].id)
    assert reminder.sent_at.replace(tzinfo=UTC) == datetime(2026, 10, 13, 8, tzinfo=UTC)


def test_ticking_again_changes_nothing(run, session, make_team, schedule_for, outbox):
    schedule_for(make_team(size=4))
    first = run(at("2026-09-01T09:00"))
    assert len(first.opened) == 1 and first.dispatch.sent == 4
    for _ in range(3):
        again = run(at("2026-09-01T09:00"))
        assert again.opened == [] and again.dispatch.sent == 0
    assert len(outbox.messages) == 4 and len(_waves(session)) == 1


def test_after_downtime_a_missed_open_happens_once_late_and_quietly(run, session, make_team,
                                                                    schedule_for, outbox):
    schedule_for(make_team(size=3))
    # Down since August: two openings were missed (1 Sept 09:00 and 6 Oct 09:00).
    report = run(at("2026-10-06T21:30"))
    waves = _waves(session)
    assert len(report.opened) == 1 and len(waves) == 1
    assert waves[0].opens_at.replace(tzinfo=UTC) == at("2026-10-06T21:30")
    # It is quiet hours now: nothing is sent until 08:00 tomorrow.
    assert outbox.messages == [] and report.dispatch.sent == 0
    run(at("2026-10-06T23:00"))
    assert outbox.messages == [] and len(_waves(session)) == 1
    run(at("2026-10-07T08:00"))
    assert len(outbox.messages) == 3


def test_reminders_go_only_to_people_who_have_not_answered_or_opted_out(
        run, session, client, make_team, schedule_for, outbox, hidden_fields, pages_at):
    schedule_for(make_team(size=4))
    run(at("2026-09-01T09:00"))
    pages_at(at("2026-09-02T12:00"))
    links = [m.text.split(f"{BASE}/p/")[1].split()[0] for m in outbox.messages]
    page = client.get(f"/p/{links[0]}")
    assert client.post(f"/p/{links[0]}", data={**hidden_fields(page.data),
                                               "recommend_work": "likely"}).status_code == 303
    unsubscribe = outbox.messages[1].text.split(f"{BASE}")[-1].split()[0]
    assert unsubscribe.startswith("/unsubscribe/")
    page = client.get(unsubscribe)
    assert b"Stop reminders" in page.data
    # No form token needed: the signed link is the authority (and mail clients post bare).
    assert client.post(unsubscribe).status_code == 200
    run(at("2026-09-08T09:00"))  # mid-window
    pages_at(at("2026-09-08T12:00"))
    reminders = [m for m in outbox.messages if m.kind == "reminder"]
    assert sorted(m.to for m in reminders) == sorted(m.to for m in outbox.messages[2:4])
    # The reminder's link works, and so does the original one.
    reminder_link = reminders[0].text.split(f"{BASE}/p/")[1].split()[0]
    assert client.get(f"/p/{reminder_link}").status_code == 200
    original = next(m for m in outbox.messages[:4] if m.to == reminders[0].to)
    assert client.get("/p/" + original.text.split(f"{BASE}/p/")[1].split()[0]).status_code == 200
    # Never more than two messages a person a wave.
    run(at("2026-09-10T09:00"))
    assert Counter(m.to for m in outbox.messages).most_common(1)[0][1] == 2


def test_closing_expires_unused_links(run, session, client, make_team, schedule_for, outbox,
                                     pages_at):
    schedule_for(make_team(size=2))
    run(at("2026-09-01T09:00"))
    link = outbox.messages[0].text.split(f"{BASE}/p/")[1].split()[0]
    pages_at(at("2026-09-02T12:00"))
    assert client.get(f"/p/{link}").status_code == 200
    report = run(at("2026-09-15T09:00"))
    pages_at(at("2026-09-15T09:01"))
    assert len(report.closed) == 1
    page = client.get(f"/p/{link}")
    assert page.status_code == 410 and b"This pulse has closed" in page.data


def test_two_schedulers_ticking_together_invite_each_person_once(app, run, session, make_team,
                                                                 schedule_for, outbox):
    schedule_for(make_team(size=30))
    barrier = threading.Barrier(2)
    reports: list[tick.TickReport] = []

    def scheduler(name: str) -> None:
        barrier.wait()
        reports.append(run(at("2026-09-01T09:00"), holder=name))

    threads = [threading.Thread(target=scheduler, args=(f"scheduler-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    invitations = session.exec(select(Invitation)).all()
    assert len(invitations) == 30
    assert len({i.staff_member_id for i in invitations}) == 30
    assert sorted(Counter(m.to for m in outbox.messages).values()) == [1] * 30
    assert len(_waves(session)) == 1


def test_a_crash_between_send_and_record_leaves_only_that_message_unknown(
        run, session, make_team, schedule_for, outbox):
    schedule_for(make_team(size=120))
    sends = {"count": 0}

    def crash_on_the_third(_message: Message, _result: Any) -> None:
        sends["count"] += 1
        if sends["count"] == 3:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        run(at("2026-09-01T09:00"), after_send=crash_on_the_third)
    assert len(outbox.messages) == 3  # the third delivered before the crash, never recorded
    report = run(at("2026-09-01T09:05"))
    assert report.dispatch.marked_unknown == 1  # only the message in flight
    states = Counter(m.status for m in _messages(session))
    assert states == {"sent": 119, "unknown": 1}
    # Nobody was sent twice, nobody else was skipped.
    delivered = Counter(m.to for m in outbox.messages)
    assert max(delivered.values()) == 1 and len(delivered) == 120
    run(at("2026-09-01T10:00"))
    assert len(outbox.messages) == 120  # the unknown one is never resent blindly


def test_transient_failures_retry_with_backoff_then_give_up(run, session, make_team,
                                                            schedule_for):
    from survey_app.scheduling.channels.base import SendResult

    class Flaky:
        name = "email"

        def __init__(self) -> None:
            self.calls = 0

        def send(self, message):
            self.calls += 1
            return SendResult.failed("421 try later", transient=True)

    flaky = Flaky()
    schedule_for(make_team(size=1))
    channels = Channels(email=flaky)
    moment = at("2026-09-01T09:00")
    for minutes in (0, 2, 6, 14, 30, 62, 200):
        run(moment + timedelta(minutes=minutes), channels=channels)
    [message] = _messages(session)
    assert (message.status, message.attempts, flaky.calls) == ("failed", 5, 5)
    assert message.failure_reason == "421 try later" and message.body_text is None


def test_rotation_covers_the_pool_in_every_team_within_three_waves(
        run, session, app, client, make_team, schedule_for, outbox, shown_items, pages_at):
    team = make_team(size=2)
    schedule_for(team, cadence_kind="weeks", every_weeks=3, start_date=date(2026, 1, 6))
    opening = date(2026, 1, 6)
    for _ in range(12):
        moment = at(f"{opening}T09:00")
        run(moment)
        run(moment + timedelta(days=15))  # close
        opening += timedelta(weeks=3)
    moment = at(f"{opening}T09:00")
    waves = _waves(session)
    assert len(waves) == 12
    pool = [i.id for i in app.extensions["pulse_instruments"]["team-pulse"].pool_items]
    due = [json.loads(w.due_items) for w in waves]
    assert all(len(items) == 3 for items in due)
    for start in range(len(due) - 2):
        window = {item for items in due[start:start + 3] for item in items}
        assert window == set(pool), start
    # A person is shown exactly the wave's due items.
    run(moment)
    pages_at(moment + timedelta(hours=1))
    link = outbox.messages[-1].text.split(f"{BASE}/p/")[1].split()[0]
    shown = shown_items(client.get(f"/p/{link}").data)
    assert shown[2:-1] == json.loads(_waves(session)[-1].due_items)


def test_someone_in_two_teams_gets_one_pulse_a_window_alternating_teams(
        run, session, make_team, schedule_for, outbox):
    from survey_app.models import StaffMember, TeamMembership

    make_team(slug="district-nursing", size=3)
    social = make_team(slug="social-care", size=3)
    shared = session.exec(select(StaffMember).order_by(col(StaffMember.id))).first()
    session.add(TeamMembership(staff_member_id=shared.id, team_id=social.id))
    session.commit()
    schedule_for(None, cadence_kind="weeks", every_weeks=3, start_date=date(2026, 9, 1))
    teams_named = []
    for opening in ("2026-09-01", "2026-09-22", "2026-10-13", "2026-11-03"):
        run(at(f"{opening}T09:00"))
        mine = [m for m in outbox.messages if m.to == shared.email and m.kind == "invitation"]
        teams_named.append(mine[-1].subject)
        assert len(mine) == len(teams_named)  # one invitation per window
    assert teams_named[0] != teams_named[1] and teams_named[0] == teams_named[2]
    assert teams_named[1] == teams_named[3]


def test_nobody_is_invited_twice_within_21_days_across_schedules(
        run, session, make_team, schedule_for, outbox):
    from survey_app.models import StaffMember, TeamMembership

    nursing = make_team(slug="district-nursing", size=2)
    social = make_team(slug="social-care", size=2)
    shared = session.exec(select(StaffMember).order_by(col(StaffMember.id))).first()
    session.add(TeamMembership(staff_member_id=shared.id, team_id=social.id))
    session.commit()
    schedule_for(nursing, start_date=date(2026, 9, 1))                   # Tue 1 Sept
    schedule_for(social, weekday=1, nth=2, start_date=date(2026, 9, 1))   # Tue 8 Sept
    run(at("2026-09-01T09:00"))
    run(at("2026-09-08T09:00"))
    invited = [m for m in outbox.messages if m.to == shared.email and m.kind == "invitation"]
    assert len(invited) == 1
    others = Counter(m.to for m in outbox.messages if m.kind == "invitation")
    # Four people (the shared one and three others), each invited once.
    assert len(others) == 4 and set(others.values()) == {1}


@pytest.mark.parametrize("bad", ["0900", "9:00", "09:00:00", "12:30Z", "24:00", "nine"])
def test_schedule_times_must_be_hh_mm(session, make_team, schedule_for, bad):
    team = make_team(size=1)
    with pytest.raises(schedules.ScheduleError, match="24-hour time like 09:00"):
        schedule_for(team, send_time=bad)


def test_one_broken_schedule_does_not_stop_the_others(run, session, make_team, schedule_for,
                                                      outbox):
    from sqlalchemy import update

    from survey_app.models import Schedule

    broken = schedule_for(make_team(slug="district-nursing", size=2))
    schedule_for(make_team(slug="social-care", size=2))
    # A row damaged outside the app (the form and CLI refuse such a time).
    session.execute(update(Schedule).where(Schedule.id == broken.id).values(send_time="0900"))
    session.commit()
    report = run(at("2026-09-01T09:00"))
    assert len(report.opened) == 1 and len(outbox.messages) == 2


def test_a_link_to_a_wave_not_yet_open_says_when_it_opens(run, client, make_team, schedule_for,
                                                          outbox, pages_at):
    schedule_for(make_team(size=1))
    run(at("2026-09-01T09:00"))
    link = outbox.messages[0].text.split(f"{BASE}/p/")[1].split()[0]
    pages_at(at("2026-08-31T12:00"))
    page = client.get(f"/p/{link}")
    assert page.status_code == 403 and b"opens on 1 September 2026" in page.data


@pytest.mark.parametrize("forged", [2**31, 10**12, -1, 0, True, "12", 1.5])
def test_an_unsubscribe_link_naming_no_possible_row_is_a_404(client, app, forged):
    # Forging one needs the secret key, but even then it must not fail the lookup
    # (out of range for PostgreSQL's integer).
    from itsdangerous import URLSafeSerializer

    from survey_app.scheduling.tick import UNSUBSCRIBE_SALT

    signed = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(forged)
    assert client.get(f"/unsubscribe/{signed}").status_code == 404
    assert client.post(f"/unsubscribe/{signed}").status_code == 404
