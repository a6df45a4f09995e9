"""Importing an ESR-style roster into the database: all or nothing, idempotent, leavers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import func, select

from survey_app.core.clock import utcnow
from survey_app.models import Neighbourhood, StaffMember, TeamMembership
from survey_app.pulse import teams
from survey_app.scheduling import roster
from survey_app.scheduling.roster_import import RosterError, import_roster, known_teams

SAMPLE = Path(__file__).resolve().parents[2] / "survey_app" / "static" / "roster-sample.csv"
TEAMS = ("district-nursing", "gp-practice", "social-care", "mental-health")
HEADER = ("Employee Number,Full Name,Work Email,Mobile,Team,Staff Group,Start Date,"
          "Leave Date\n")


@pytest.fixture
def neighbourhood(session, make_team):
    for slug in TEAMS:
        make_team(slug=slug, size=0)
    return session.exec(select(Neighbourhood)).one()


def _import(session, neighbourhood, text: bytes):
    parsed = roster.parse_roster(text, known_teams=known_teams(session,
                                                              neighbourhood=neighbourhood))
    report = import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
    session.commit()
    return report


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_the_sample_imports_and_reimporting_changes_nothing(session, neighbourhood):
    first = _import(session, neighbourhood, SAMPLE.read_bytes())
    people, memberships = _count(session, StaffMember), _count(session, TeamMembership)
    assert first.created == people > 0 and first.joined_teams == memberships > people - 1
    again = _import(session, neighbourhood, SAMPLE.read_bytes())
    assert (again.created, again.updated, again.joined_teams, again.left_teams) == (0, 0, 0, 0)
    assert again.unchanged == people and not again.changed
    assert (_count(session, StaffMember), _count(session, TeamMembership)) == (people,
                                                                               memberships)


def test_leavers_stop_being_invited_and_moves_follow_the_file(session, neighbourhood):
    _import(session, neighbourhood, (
        HEADER + "1001,Ada Fernbrook,ada@riverside-int.example,07700 900101,district-nursing,"
        "Nursing,01/02/2020,\n"
        "1002,Ben Marsh,,07700 900102,social-care,Social work,2021-03-04,\n").encode())
    today = utcnow().date()
    nursing = teams.find_team(session, slug="district-nursing")
    assert len(teams.current_members(session, team_id=nursing.id, on=today)) == 1
    report = _import(session, neighbourhood, (
        HEADER + "1001,Ada Fernbrook,ada@riverside-int.example,07700 900101,district-nursing,"
        f"Nursing,01/02/2020,{today:%d/%m/%Y}\n"
        "1002,Ben Marsh,,07700 900102,mental-health,Social work,2021-03-04,\n").encode())
    assert (report.updated, report.joined_teams, report.left_teams) == (1, 1, 1)
    assert teams.current_members(session, team_id=nursing.id, on=today) == []
    mental = teams.find_team(session, slug="mental-health")
    [ben] = teams.current_members(session, team_id=mental.id, on=today)
    assert ben.mobile == "+447700900102" and ben.email is None


def test_a_file_with_errors_changes_nothing_and_names_each_row(session, neighbourhood):
    bad = (HEADER
           + "1001,Ada Fernbrook,not-an-email,07700 900101,district-nursing,Nursing,,\n"
           + "1002,Ben Marsh,ben@riverside-int.example,01632 960000,district-nursing,Nursing,,\n"
           + "1003,Cal Ng,cal@riverside-int.example,,dentistry,Nursing,,\n"
           + "1004,Dee Oak,dee@riverside-int.example,,social-care,Care,,\n"
           + "1004,Dee Oak,dee@riverside-int.example,,social-care,Care,,\n").encode()
    parsed = roster.parse_roster(bad, known_teams=known_teams(session,
                                                              neighbourhood=neighbourhood))
    with pytest.raises(RosterError) as caught:
        import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
    rows = {(e.row, e.column) for e in caught.value.errors}
    assert {(2, "Work Email"), (3, "Mobile"), (4, "Team"), (6, "Employee Number")} <= rows
    session.rollback()
    assert _count(session, StaffMember) == 0


def test_the_cli_imports_with_progress_and_reports_problems(runner, session, neighbourhood,
                                                            tmp_path):
    result = runner.invoke(args=["roster", "import", str(SAMPLE), "--int", "test-int"])
    assert result.exit_code == 0, result.output
    assert "added" in result.output and "Checking rows" in result.output
    assert re.search(r"[\d,]+ of [\d,]+ changes written", result.output)
    again = runner.invoke(args=["roster", "import", str(SAMPLE), "--int", "test-int"])
    assert "0 added, 0 updated" in again.output
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + "1009,Eve Park,eve@,07700 900109,district-nursing,Nursing,,\n")
    failed = runner.invoke(args=["roster", "import", str(broken), "--int", "test-int"])
    assert failed.exit_code != 0
    assert "row 2, Work Email" in failed.output and "nothing was imported" in failed.output
    missing = runner.invoke(args=["roster", "import", str(SAMPLE), "--int", "nope"])
    assert missing.exit_code != 0 and "No INT 'nope'" in missing.output
