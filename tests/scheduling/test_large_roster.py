"""A roster of 100,000 rows imports in bounded statements, in one transaction.

A 70,000-row upload once failed: the importer sent every employee number, and
then every member id, as one ``IN (...)`` list, past the parameters a statement
may carry (PostgreSQL's driver takes 65,535; SQLite 32,766).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from survey_app.models import Neighbourhood, StaffMember, TeamMembership
from survey_app.scheduling import roster, roster_import
from survey_app.scheduling.roster_import import RosterError, import_roster, known_teams

TEAMS = ("district-nursing", "gp-practice", "social-care", "mental-health")
HEADER = ("Employee Number,Full Name,Work Email,Mobile,Team,Staff Group,Start Date,"
          "Leave Date\n")
ROWS = 100_000
# Every tenth person is in a second team: 90,909 people on 100,000 rows.
PEOPLE = 90_909
# Far below both databases' limits, far above a batch of a few thousand rows.
MAX_PARAMETERS = 30_000


def _rows(people: int, *, moved: int = 0, renamed: int = 0) -> Iterator[str]:
    """Roster lines; the first ``moved`` people change team, the first ``renamed``
    their name."""
    for i in range(people):
        team = TEAMS[(i + (1 if i < moved else 0)) % 4]
        name = f"Person {i}" + (" Renamed" if i < renamed else "")
        person = (f"{20400000 + i},{name},person{i}@riverside-int.example,"
                  f"07700 {i % 1_000_000:06d},")
        rest = ",Nursing and Midwifery Registered,04/09/2017,\n"
        yield person + team + rest
        if i % 10 == 0:
            yield person + TEAMS[(i + 2) % 4] + rest


def _roster(people: int = PEOPLE, **changes: int) -> bytes:
    return (HEADER + "".join(_rows(people, **changes))).encode()


@dataclass
class Statements:
    count: int = 0
    most_parameters: int = 0
    commits: int = 0
    sizes: list[int] = field(default_factory=list)


@contextmanager
def watched(session) -> Iterator[Statements]:
    """Every statement the block sends (its parameters), and every commit."""
    engine = session.get_bind()
    seen = Statements()

    def before(_conn, _cursor, _statement, parameters, _context, executemany) -> None:
        rows = parameters if executemany else [parameters]
        size = len(rows[0]) if rows and rows[0] is not None else 0
        seen.count += 1
        seen.most_parameters = max(seen.most_parameters, size)

    def commit(_conn) -> None:
        seen.commits += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)


@pytest.fixture
def neighbourhood(session, make_team):
    for slug in TEAMS:
        make_team(slug=slug, size=0)
    return session.exec(select(Neighbourhood)).one()


def _parse(session, neighbourhood, data: bytes) -> roster.RosterParse:
    return roster.parse_roster(data, known_teams=known_teams(session,
                                                             neighbourhood=neighbourhood))


def _counts(session) -> tuple[int, int]:
    return (session.exec(select(func.count()).select_from(StaffMember)).one(),
            session.exec(select(func.count()).select_from(TeamMembership)).one())


def test_a_roster_of_100_000_rows_imports_in_bounded_statements_in_one_transaction(
        session, neighbourhood):
    parsed = _parse(session, neighbourhood, _roster())
    assert parsed.ok and len(parsed.rows) == ROWS
    with watched(session) as first:
        report = import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
    assert (report.created, report.joined_teams, report.updated) == (PEOPLE, ROWS, 0)
    assert first.most_parameters <= MAX_PARAMETERS
    # Batched: more than a statement or two, far fewer than one a row.
    assert 3 <= first.count <= 1_000
    # The importer leaves the one transaction to its caller: nothing is committed yet.
    assert first.commits == 0
    session.commit()
    assert _counts(session) == (PEOPLE, ROWS)

    # Re-importing the same file changes nothing.
    with watched(session) as again:
        unchanged = import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
    assert not unchanged.changed and unchanged.unchanged == PEOPLE
    assert again.most_parameters <= MAX_PARAMETERS and again.commits == 0
    session.commit()
    assert _counts(session) == (PEOPLE, ROWS)

    # Moves and renames on this scale are batched too: 60,000 people change team
    # (a membership removed and one added each), 50,000 change name.
    moved = _parse(session, neighbourhood, _roster(moved=60_000, renamed=50_000))
    with watched(session) as third:
        changes = import_roster(session, neighbourhood=neighbourhood, parsed=moved)
    assert (changes.created, changes.updated, changes.unchanged) == (0, 50_000, PEOPLE - 50_000)
    # Each mover leaves one team and joins another (a two-team person keeps the other).
    assert changes.joined_teams == changes.left_teams == 60_000
    assert third.most_parameters <= MAX_PARAMETERS and third.commits == 0
    session.commit()
    assert _counts(session) == (PEOPLE, ROWS)
    mover = session.exec(select(StaffMember).where(
        StaffMember.employee_number == "20400001")).one()
    assert mover.name == "Person 1 Renamed"


def test_a_large_import_rolled_back_leaves_nothing(session, neighbourhood):
    """All or nothing: every batch is in the caller's transaction, so a rollback (as the
    upload page does when anything fails) undoes the lot."""
    parsed = _parse(session, neighbourhood, _roster(20_000))
    import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
    session.rollback()
    assert _counts(session) == (0, 0)


def test_a_large_file_with_one_bad_row_changes_nothing(session, neighbourhood):
    data = _roster(20_000) + b"20499999,Late Row,late@,,district-nursing,Nursing,,\n"
    parsed = _parse(session, neighbourhood, data)
    with pytest.raises(RosterError) as caught, watched(session) as seen:
        import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
    assert [(e.column, e.message[:20]) for e in caught.value.errors] == [
        ("Work Email", "'late@' is not an em")]
    assert seen.count == 0
    assert _counts(session) == (0, 0)


def test_batches_meet_at_their_edges(session, neighbourhood, monkeypatch):
    """With tiny batches, every person and membership still lands exactly once."""
    monkeypatch.setattr(roster_import, "BATCH_ROWS", 7)
    parsed = _parse(session, neighbourhood, _roster(101))
    reported: list[tuple[int, int]] = []
    report = import_roster(session, neighbourhood=neighbourhood, parsed=parsed,
                           progress=lambda done, total: reported.append((done, total)))
    session.commit()
    rows = len(parsed.rows)
    # Progress after each batch: 101 people in 15 batches, then 112 memberships in 16.
    assert len(reported) == 15 + 16
    assert [done for done, _ in reported] == sorted({done for done, _ in reported})
    assert reported[0] == (7, 101) and reported[-1] == (101 + rows, 101 + rows)
    assert (report.created, report.joined_teams) == (101, rows)
    assert _counts(session) == (101, rows)
    moved = import_roster(session, neighbourhood=neighbourhood,
                          parsed=_parse(session, neighbourhood,
                                        _roster(101, moved=50, renamed=30)))
    session.commit()
    assert (moved.updated, moved.unchanged) == (30, 71)
    assert moved.joined_teams == moved.left_teams == 50
    assert _counts(session) == (101, rows)
    again = import_roster(session, neighbourhood=neighbourhood,
                          parsed=_parse(session, neighbourhood,
                                        _roster(101, moved=50, renamed=30)))
    assert not again.changed
