"""The admin pages that run the programme: schedules, roster upload, outbox and failed
messages. Through the test client, signed in through the real login form."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey_app.core.clock import utcnow
from survey_app.models import (
    AuditEvent,
    Message,
    Neighbourhood,
    Schedule,
    StaffMember,
    TeamMembership,
)
from survey_app.scheduling import forms as scheduling_forms
from survey_app.scheduling import schedules
from tests.dates import with_date_fields

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "survey_app" / "static" / "roster-sample.csv"
RIVERSIDE_TEAMS = ("district-nursing", "gp-practice", "social-care", "mental-health")
# A quarterly pulse on the first Tuesday: the settings the tests start from.
QUARTERLY = {"neighbourhood": "test-int", "team": "", "cadence_kind": "quarterly",
             "every_weeks": "4", "nth": "1", "weekday": "1", "send_time": "09:00",
             "window_days": "14", "reminder": "yes", "quiet_start": "20:00",
             "quiet_end": "08:00", "start_date": "2026-12-01", "end_date": ""}


@pytest.fixture
def admin(client, make_user, login):
    """The test client, signed in as an admin."""
    make_user("admin")
    assert login(client, "admin@example.test").status_code == 302
    return client


@pytest.fixture
def teams(make_team):
    """The sample roster's four teams, empty, in the INT test-int."""
    return {slug: make_team(slug=slug, size=0) for slug in RIVERSIDE_TEAMS}


@pytest.fixture
def post_schedule(admin, hidden_fields) -> Callable[..., Any]:
    """Post the schedule form with QUARTERLY changed by ``changes``; ``button`` is
    "check" or "save"."""

    def post(button: str = "check", **changes: str) -> Any:
        token = hidden_fields(admin.get("/admin/schedules").data)["csrf_token"]
        return admin.post("/admin/schedules",
                          data=with_date_fields({**QUARTERLY, **changes, button: "y",
                                                 "csrf_token": token},
                                                "start_date", "end_date"))

    return post


@pytest.fixture
def upload(admin, hidden_fields) -> Callable[[bytes], Any]:
    def post(content: bytes, filename: str = "roster.csv", int_slug: str = "test-int") -> Any:
        token = hidden_fields(admin.get("/admin/roster").data)["csrf_token"]
        # Encoded here: for a body over 500 KB the test client's own encoder leaves a
        # temporary file open, which the suite's warnings-as-errors would report.
        boundary, body = encode_multipart({
            "csrf_token": token, "neighbourhood": int_slug,
            "roster": FileStorage(io.BytesIO(content), filename)})
        return admin.post("/admin/roster", data=body,
                          content_type=f"multipart/form-data; boundary={boundary}")

    return post


@pytest.fixture
def add_message(session) -> Callable[..., Message]:
    """Insert a message row as dispatch leaves it."""

    def add(wave_id: int, staff_member_id: int, *, status: str, channel: str = "outbox",
            body: str | None = None, reason: str | None = None, minutes_ago: int = 0,
            address: str = "someone@example.test", kind: str = "invitation") -> Message:
        created = utcnow() - timedelta(minutes=minutes_ago)
        message = Message(wave_id=wave_id, staff_member_id=staff_member_id, kind=kind,
                          channel=channel, address=address, status=status, attempts=1,
                          due_at=created, subject=f"Your {kind}", body_text=body,
                          failure_reason=reason, created_at=created)
        session.add(message)
        session.commit()
        return message

    return add


def _text(response: Any) -> str:
    """The page as text, entities decoded."""
    return html.unescape(response.data.decode())


def _burden(response: Any) -> dict[str, str]:
    return dict(re.findall(r'<th class="nhsuk-table__header" scope="row">([^<]+)</th>'
                           r'<td class="nhsuk-table__cell--numeric">([^<]+)</td>',
                           response.data.decode()))


def _schedules(session) -> list[Schedule]:
    session.expire_all()
    return list(session.exec(select(Schedule)).all())


def _count(session, model: Any) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def _audit(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- schedules -------------------------------------------------------------------------


@pytest.mark.parametrize("changes, expected", [
    # 4 a year; 6 items (2 core, 3 rotating, the optional comment) at 12 s: 1.2 minutes each.
    ({}, {"Invitations a year": "4", "Minutes a year answering": "5",
          "Minutes for one pulse": "1.2", "Messages a year, at most": "8"}),
    # 365.2425 / 28 = 13.04 a year; no reminder, so one message each.
    ({"cadence_kind": "weeks", "every_weeks": "4", "reminder": "no"},
     {"Invitations a year": "13", "Minutes a year answering": "16",
      "Minutes for one pulse": "1.2", "Messages a year, at most": "13"}),
    ({"cadence_kind": "monthly", "nth": "-1", "weekday": "4", "window_days": "10"},
     {"Invitations a year": "12", "Minutes a year answering": "14",
      "Minutes for one pulse": "1.2", "Messages a year, at most": "24"}),
])
def test_checking_shows_the_burden_and_saves_nothing(post_schedule, teams, session, changes,
                                                     expected):
    response = post_schedule("check", **changes)
    assert response.status_code == 200, _text(response)
    assert _burden(response) == expected
    assert "Not saved yet" in _text(response)
    assert _schedules(session) == []
    # The settings stay filled in, ready to save.
    page = response.data.decode()
    assert all(f'name="start_date-{part}" type="text" inputmode="numeric" autocomplete="off" '
               f'value="{typed}"' in page
               for part, typed in (("day", "01"), ("month", "12"), ("year", "2026")))


def test_saving_creates_the_schedule_and_shows_its_burden(post_schedule, teams, session):
    team = teams["gp-practice"]
    response = post_schedule("save", team=str(team.id), window_days="21", reminder="no")
    assert response.status_code == 302
    [schedule] = _schedules(session)
    assert (schedule.team_id, schedule.cadence_kind, schedule.weekday, schedule.nth,
            schedule.window_days, schedule.reminder, schedule.quiet_start, schedule.quiet_end,
            schedule.weekends_allowed, schedule.start_date, schedule.end_date,
            schedule.active) == (team.id, "quarterly", 1, 1, 21, False, "20:00", "08:00",
                                 False, date(2026, 12, 1), None, True)
    assert [event.target for event in _audit(session, "schedule.set")] == [str(schedule.id)]


def test_the_saved_schedule_is_listed_with_its_burden_in_the_flash(admin, post_schedule, teams):
    response = post_schedule("save", end_date="2027-12-31", weekends_allowed="y")
    page = _text(admin.get(response.headers["Location"]))
    assert ("Saved the schedule for every team of test-int INT: each person gets 4 "
            "invitations a year and at most 8 messages, and spends about 5 minutes a year "
            "answering.") in page
    assert "All teams" in page
    assert "Quarterly on the first Tuesday at 09:00, from 1 Dec 2026 to 31 Dec 2027" in page
    assert "Open 14 days; one reminder; quiet 20:00–08:00, weekends allowed" in page


def test_saving_again_changes_the_same_schedule(post_schedule, teams, session):
    post_schedule("save")
    post_schedule("save", cadence_kind="monthly", nth="2", weekday="2")
    [schedule] = _schedules(session)
    assert (schedule.cadence_kind, schedule.nth, schedule.weekday) == ("monthly", 2, 2)


@pytest.mark.parametrize("button", ["check", "save"])
@pytest.mark.parametrize("changes, message", [
    ({"cadence_kind": "weeks", "every_weeks": "1"}, "the limit is once every 21 days"),
    ({"end_date": "2026-11-01"}, "The end date 1 November 2026 is before the start date"),
    ({"send_time": "21:00"}, "The send time 21:00 is in quiet hours"),
    ({"send_time": "nine"}, "The send time must be a 24-hour time like 09:00, got 'nine'"),
    ({"window_days": "1"}, "A pulse must stay open for at least 2 days"),
])
def test_invalid_settings_show_the_error_summary_and_save_nothing(
        post_schedule, teams, session, button, changes, message):
    response = post_schedule(button, **changes)
    assert response.status_code == 400
    page = _text(response)
    summary = page[page.index('<div class="nhsuk-error-summary"'):page.index("<h1")]
    assert "There is a problem" in summary and message in summary
    assert '<a href="#schedule-form">' in summary
    assert "<title>Error: Schedules" in page
    assert "What this schedule asks" not in page
    assert _schedules(session) == []


@pytest.mark.parametrize("changes, field, message", [
    ({"start_date": ""}, "start_date", "Enter a start date"),
    ({"start_date": "31/02/2026"}, "start_date",
     "Start date must be a real date: February 2026 has no day 31"),
    ({"cadence_kind": "weeks", "every_weeks": ""}, "every_weeks",
     "Enter every how many weeks"),
    ({"cadence_kind": "weeks", "every_weeks": "four"}, "every_weeks",
     "Every how many weeks must be a whole number"),
    ({"cadence_kind": ""}, "cadence_kind", "Choose how often to pulse"),
    # An unknown INT sends the admin back to the step that chooses one.
    ({"neighbourhood": "nowhere"}, "int", "Choose an INT from the list"),
])
def test_a_missing_or_malformed_field_is_linked_from_the_summary(
        post_schedule, teams, session, changes, field, message):
    response = post_schedule("save", **changes)
    assert response.status_code == 400
    assert f'<a href="#{field}">{message}' in _text(response)
    assert _schedules(session) == []


def test_every_weeks_is_ignored_for_other_cadences(post_schedule, teams, session):
    assert post_schedule("save", every_weeks="").status_code == 302
    [schedule] = _schedules(session)
    assert schedule.every_weeks is None


def test_a_team_of_another_int_is_refused(post_schedule, teams, make_team, session):
    elsewhere = make_team(slug="podiatry", size=0, int_slug="other-int")
    response = post_schedule("save", team=str(elsewhere.id))
    assert response.status_code == 400
    assert "Podiatry is not a team of test-int INT" in _text(response)
    assert _schedules(session) == []


def test_a_schedule_is_paused_and_resumed(admin, teams, session, hidden_fields):
    neighbourhood = session.exec(select(Neighbourhood)).one()
    schedule, _ = schedules.set_schedule(
        session, neighbourhood=neighbourhood, team=None, now=utcnow(), items_per_pulse=6,
        settings=schedules.ScheduleSettings(cadence_kind="quarterly", weekday=1,
                                            start_date=date(2026, 12, 1)))
    session.commit()
    token = hidden_fields(admin.get("/admin/schedules").data)["csrf_token"]

    response = admin.post(f"/admin/schedules/{schedule.id}/pause", data={"csrf_token": token})
    assert response.status_code == 302
    assert [s.active for s in _schedules(session)] == [False]
    page = _text(admin.get("/admin/schedules"))
    assert "Paused: no new pulses open until it is resumed" in page
    assert ">Resume<" in page and ">Pause<" not in page

    admin.post(f"/admin/schedules/{schedule.id}/resume", data={"csrf_token": token})
    assert [s.active for s in _schedules(session)] == [True]
    assert [e.action for e in _audit(session, "schedule.pause")
            + _audit(session, "schedule.resume")] == ["schedule.pause", "schedule.resume"]
    assert admin.post("/admin/schedules/999/pause",
                      data={"csrf_token": token}).status_code == 404


# --- roster ----------------------------------------------------------------------------


def test_the_sample_roster_imports_everyone(admin, upload, teams, session):
    response = upload(SAMPLE.read_bytes(), "roster-sample.csv")
    assert response.status_code == 302
    page = _text(admin.get(response.headers["Location"]))
    assert ("10 added, 0 updated, 0 unchanged; 11 team memberships added, 0 removed; "
            "0 people on record") in page
    # Ten people; Caspian Thistlewood is in two teams, so eleven memberships.
    assert _count(session, StaffMember) == 10
    assert _count(session, TeamMembership) == 11
    leaver = session.exec(select(StaffMember).where(
        StaffMember.employee_number == "20401003")).one()
    assert leaver.leave_date == date(2026, 7, 31)
    [event] = _audit(session, "roster.import")
    assert event.target == "test-int" and '"created": 10' in (event.detail or "")


def test_uploading_the_same_roster_again_changes_nothing(admin, upload, teams, session):
    upload(SAMPLE.read_bytes())
    response = upload(SAMPLE.read_bytes())
    page = _text(admin.get(response.headers["Location"]))
    assert "0 added, 0 updated, 10 unchanged; 0 team memberships added, 0 removed" in page
    assert (_count(session, StaffMember), _count(session, TeamMembership)) == (10, 11)


BAD_ROSTER = b"""Employee Number,Full Name,Work Email,Mobile,Team,Staff Group,Start Date,Leave Date
1,Good Person,good@example.test,07700 900001,district-nursing,Nursing,,
2,Bad Email,not-an-email,,district-nursing,Nursing,,
3,Unknown Team,,,podiatry,Nursing,,
4,Bad Mobile,,01632 960000,gp-practice,Nursing,,
1,Good Person,good@example.test,07700 900001,district-nursing,Nursing,,
"""


def _problems(response: Any) -> list[tuple[int, str, str]]:
    rows = re.findall(r'<tr><td class="nhsuk-table__cell--numeric">(\d+)</td><td>([^<]*)</td>'
                      r'<td>([^<]*)</td></tr>', response.data.decode())
    return [(int(row), html.unescape(column), html.unescape(problem))
            for row, column, problem in rows]


def test_a_roster_with_errors_lists_them_by_row_and_changes_nothing(admin, upload, teams,
                                                                   session):
    upload(SAMPLE.read_bytes())
    response = upload(BAD_ROSTER)
    assert response.status_code == 400
    problems = _problems(response)
    assert [(row, column) for row, column, _ in problems] == [
        (3, "Work Email"), (4, "Team"), (5, "Mobile"), (6, "Employee Number")]
    assert "'not-an-email' is not an email address." in problems[0][2]
    assert "There is no team 'podiatry'" in problems[1][2]
    assert "landline" in problems[2][2]
    assert "Employee 1 is already in team 'district-nursing' on row 2" in problems[3][2]
    page = _text(response)
    assert "4 problems in the file, so nothing was imported" in page
    # Nothing changed: still the sample's people, and nobody from this file.
    assert (_count(session, StaffMember), _count(session, TeamMembership)) == (10, 11)
    assert session.exec(select(StaffMember).where(StaffMember.name == "Good Person")).first() \
        is None
    assert len(_audit(session, "roster.import")) == 1


def test_only_the_first_200_problems_are_listed(upload, teams, session):
    header = BAD_ROSTER.splitlines()[0]
    rows = [f"{n},Person {n},broken-{n},,district-nursing,Nursing,,".encode()
            for n in range(1, 251)]
    response = upload(b"\n".join([header, *rows]))
    assert response.status_code == 400
    assert len(_problems(response)) == 200
    page = _text(response)
    assert "250 problems in the file" in page and "And 50 more problems not shown" in page
    assert _count(session, StaffMember) == 0


@pytest.mark.parametrize("content, filename, message", [
    (None, "", "Choose a roster file to upload"),
    (b"anything", "roster.xlsx", "The roster must be a .csv file"),
])
def test_the_file_must_be_a_csv(admin, hidden_fields, teams, content, filename, message):
    token = hidden_fields(admin.get("/admin/roster").data)["csrf_token"]
    data: dict[str, Any] = {"csrf_token": token, "neighbourhood": "test-int"}
    if content is not None:
        data["roster"] = (io.BytesIO(content), filename)
    response = admin.post("/admin/roster", data=data)
    assert response.status_code == 400
    assert f'<a href="#roster">{message}' in _text(response)


def test_a_roster_of_10000_people_uploads_in_one_go(upload, teams, session):
    # 1.2 MB: over the size Werkzeug keeps in memory, so the upload is read from disk.
    header = BAD_ROSTER.splitlines()[0]
    rows = [f"{n},Person {n},person.{n}@example.test,07700 9{n:05d},district-nursing,"
            "Nursing and Midwifery Registered,01/02/2020,".encode() for n in range(10_000)]
    response = upload(b"\r\n".join([header, *rows]))
    assert response.status_code == 302
    assert (_count(session, StaffMember), _count(session, TeamMembership)) == (10_000, 10_000)


def test_a_very_large_file_is_refused_before_it_is_read(upload, teams, session, monkeypatch):
    monkeypatch.setattr(scheduling_forms, "MAX_ROSTER_BYTES", 1024)
    response = upload(SAMPLE.read_bytes())
    assert response.status_code == 400
    assert "The file is larger than" in _text(response)
    assert _count(session, StaffMember) == 0


def test_the_sample_roster_downloads(admin):
    with admin.get("/admin/roster/sample.csv") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == \
            "attachment; filename=roster-sample.csv"
        assert response.mimetype == "text/csv"
        assert response.data == SAMPLE.read_bytes()
    assert "/admin/roster/sample.csv" in _text(admin.get("/admin/roster"))


# --- messages --------------------------------------------------------------------------


def test_the_outbox_shows_outbox_messages_with_their_links(admin, open_wave, add_message):
    wave = open_wave(size=2)
    first, second = wave.tokens
    add_message(wave.wave_id, first, status="sent", minutes_ago=5, address="ada@example.test",
                body="Hello Ada, answer here: http://pulse.test/p/outbox-link-1")
    add_message(wave.wave_id, second, status="pending", kind="reminder",
                address="bo@example.test", body="Reminder: http://pulse.test/p/outbox-link-2")
    add_message(wave.wave_id, second, status="pending", channel="email",
                body="Not for the outbox: http://pulse.test/p/email-link")
    response = admin.get("/admin/outbox")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = _text(response)
    assert "http://pulse.test/p/outbox-link-1" in page
    assert "http://pulse.test/p/outbox-link-2" in page
    assert "email-link" not in page
    # Newest first.
    assert page.index("outbox-link-2") < page.index("outbox-link-1")
    assert "ada@example.test" in page and "Reminder" in page
    assert "only when neither email nor text messages" in page
    # Totals over every message, by state.
    counts = re.findall(r'<td class="nhsuk-table__cell--numeric">(\d+)</td>',
                        response.data.decode())
    assert counts[:5] == ["2", "0", "1", "0", "0"]  # pending, sending, sent, failed, unknown


def test_the_outbox_is_paginated_50_a_page(admin, open_wave, add_message):
    wave = open_wave(size=1)
    [member] = wave.tokens
    for n in range(51):
        add_message(wave.wave_id, member, status="sent", minutes_ago=100 - n,
                    body=f"Message number {n:03d}.")
    first = _text(admin.get("/admin/outbox"))
    assert first.count("Message number") == 50
    assert "Message number 050." in first and "Message number 000." not in first
    assert "Page 1 of 2" in first and "?page=2" in first
    second = _text(admin.get("/admin/outbox?page=2"))
    assert second.count("Message number") == 1 and "Message number 000." in second
    assert admin.get("/admin/outbox?page=3").status_code == 404
    assert admin.get("/admin/outbox?page=0").status_code == 404


def test_failed_and_unknown_messages_are_listed_without_their_bodies(admin, open_wave,
                                                                      add_message):
    wave = open_wave(size=3)
    one, two, three = wave.tokens
    add_message(wave.wave_id, one, status="failed", channel="email", address="one@example.test",
                reason="550 Mailbox unavailable", body="SECRET BODY http://pulse.test/p/x")
    add_message(wave.wave_id, two, status="unknown", channel="sms", address="+447700900002",
                reason="The scheduler stopped while sending this",
                body="SECRET SMS http://pulse.test/p/y")
    add_message(wave.wave_id, three, status="sent", channel="email",
                address="three@example.test")
    response = admin.get("/admin/messages")
    assert response.status_code == 200
    page = _text(response)
    assert "SECRET" not in page and "/p/" not in page
    assert "one@example.test" in page and "550 Mailbox unavailable" in page
    assert "+447700900002" in page and "The scheduler stopped while sending this" in page
    assert "three@example.test" not in page
    assert f"Wave {wave.wave_id}" in page and "District Nursing" in page
    assert "Person district-nursing 0" in page
    assert "flask --app wsgi wave codes WAVE_ID" in page
    assert "may or may not have arrived" in page and "was not sent again" in page
    assert "Failed or unknown (2)" in page


# --- who may see them ------------------------------------------------------------------

PAGES = ["/admin/schedules", "/admin/roster", "/admin/roster/sample.csv", "/admin/outbox",
         "/admin/messages"]
POSTS = ["/admin/schedules", "/admin/schedules/1/pause", "/admin/schedules/1/resume",
         "/admin/roster"]


@pytest.mark.parametrize("role, home", [("recorder", "/activation/record"),
                                        ("lead", "/home")])
def test_other_roles_are_refused(client, make_site, make_user, login, hidden_fields, role,
                                 home):
    make_site("RMP")
    make_user(role, sites=("RMP",) if role == "recorder" else (),
              ints=("test-int",) if role == "lead" else ())
    login(client, f"{role}@example.test")
    token = hidden_fields(client.get(home).data)["csrf_token"]
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    for url in POSTS:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_the_admin_navigation_links_the_new_pages(admin):
    page = _text(admin.get("/admin/users"))
    for url in ["/admin/schedules", "/admin/roster", "/admin/messages", "/admin/outbox"]:
        assert f'href="{url}"' in page
