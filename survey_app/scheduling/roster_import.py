"""Applying a parsed roster to the database: all or nothing, and idempotent.

People are matched by ESR employee number within the INT. A re-import of
the same file changes nothing; a leave date stops a person being invited; a
person's team memberships follow the file. People missing from the file are
left as they are (a partial export must not make a team vanish) and counted,
so the admin can see them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from survey_app.models import Neighbourhood, StaffMember, Team, TeamMembership
from survey_app.scheduling.roster import RosterParse, RosterRow

PERSON_FIELDS = ("name", "email", "mobile", "profession", "start_date", "leave_date")
# Rows per statement (an INSERT, or an UPDATE or DELETE sent as executemany): far
# from the parameters a statement may carry (65,535 for psycopg, 32,766 for SQLite),
# and large enough that 100,000 rows take a few dozen round trips.
BATCH_ROWS = 5_000

_Row = TypeVar("_Row", bound=dict[str, Any])


class RosterError(ValueError):
    """The file has problems; nothing was imported."""

    def __init__(self, parsed: RosterParse) -> None:
        self.errors = parsed.errors
        super().__init__(f"{len(parsed.errors)} problem(s) in the file; nothing was imported")


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    joined_teams: int
    left_teams: int
    not_in_file: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.joined_teams or self.left_teams)

    def summary(self) -> str:
        return (f"{self.created} added, {self.updated} updated, {self.unchanged} unchanged; "
                f"{self.joined_teams} team memberships added, {self.left_teams} removed; "
                f"{self.not_in_file} people on record are not in this file (left as they are)")


def known_teams(session: Session, *, neighbourhood: Neighbourhood) -> dict[str, str]:
    """Slug and lower-cased name of each team of the INT, mapped to its slug."""
    teams = session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id)).all()
    known = {team.slug: team.slug for team in teams}
    known.update({team.name.lower(): team.slug for team in teams})
    return known


def import_roster(session: Session, *, neighbourhood: Neighbourhood, parsed: RosterParse,
                  progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Apply the rows; raises :class:`RosterError` (changing nothing) if any row is bad.

    Every statement carries at most :data:`BATCH_ROWS` rows, so a roster of any size
    stays within the parameters a statement may have, and all of them run in the
    session's one transaction: committing, or rolling back after a failure, is the
    caller's (all or nothing). ``progress``, if given, is called after each batch
    with the rows written so far and the rows known to need writing (people first;
    the total grows once the membership changes are known).
    """
    if parsed.errors:
        raise RosterError(parsed)
    people: dict[str, RosterRow] = {}
    teams_of: dict[str, set[str]] = defaultdict(set)
    for row in parsed.rows:
        people.setdefault(row.employee_number, row)
        teams_of[row.employee_number].add(row.team_slug)
    team_ids = {team.slug: team.id or 0 for team in session.exec(
        select(Team).where(Team.neighbourhood_id == neighbourhood.id))}
    connection = session.connection()
    # The INT's whole record, not an IN list of the file's numbers: one statement of
    # one parameter, however long the file.
    in_int = (col(StaffMember.neighbourhood_id) == neighbourhood.id,
              col(StaffMember.employee_number).is_not(None))
    fields = [col(getattr(StaffMember, field)) for field in PERSON_FIELDS]
    existing: dict[str, tuple[int, tuple[object, ...]]] = {
        number: (member_id, tuple(values)) for member_id, number, *values in connection.execute(
            sa_select(col(StaffMember.id), col(StaffMember.employee_number), *fields)
            .where(*in_int))}
    new_rows, changed_rows = [], []
    unchanged = 0
    for number, row in people.items():
        values = {field: getattr(row, field) for field in PERSON_FIELDS}
        found = existing.get(number)
        if found is None:
            new_rows.append({"neighbourhood_id": neighbourhood.id, "employee_number": number,
                             "reminders_opt_out": False, **values})
        elif found[1] != tuple(values.values()):
            # Bind names must differ from column names in an UPDATE ... executemany.
            changed_rows.append({"member_id": found[0],
                                 **{f"new_{field}": value for field, value in values.items()}})
        else:
            unchanged += 1
    ids = {number: member_id for number, (member_id, _) in existing.items()}
    # Memberships of the INT's people (the file's are picked out below).
    current: dict[int, set[int]] = defaultdict(set)
    for member_id, team_id in connection.execute(
        sa_select(col(TeamMembership.staff_member_id), col(TeamMembership.team_id))
        .join(StaffMember, col(StaffMember.id) == col(TeamMembership.staff_member_id))
        .where(*in_int)
    ):
        current[member_id].add(team_id)
    progress_of = _Progress(progress, total=len(new_rows) + len(changed_rows))
    for batch in _batches(new_rows):
        session.execute(insert(StaffMember), batch)
        progress_of.advance(len(batch))
    for batch in _batches(changed_rows):
        connection.execute(
            update(StaffMember).where(col(StaffMember.id) == bindparam("member_id"))
            .values({field: bindparam(f"new_{field}") for field in PERSON_FIELDS}),
            batch,
        )
        progress_of.advance(len(batch))
    if new_rows:
        # The new people's ids: the INT's numbers and ids read again, as one statement
        # whatever the file's length.
        ids = {number: member_id for number, member_id in connection.execute(
            sa_select(col(StaffMember.employee_number), col(StaffMember.id)).where(*in_int)
        ).tuples() if number is not None and member_id is not None}
    joins, leaves = [], []
    for number, slugs in teams_of.items():
        person = ids[number]
        wanted = {team_ids[slug] for slug in slugs}
        had = current.get(person, set())
        joins += [{"staff_member_id": person, "team_id": t} for t in wanted - had]
        leaves += [{"member_id": person, "old_team_id": t} for t in had - wanted]
    progress_of.total += len(joins) + len(leaves)
    for batch in _batches(joins):
        session.execute(insert(TeamMembership), batch)
        progress_of.advance(len(batch))
    for batch in _batches(leaves):
        connection.execute(
            delete(TeamMembership).where(
                col(TeamMembership.staff_member_id) == bindparam("member_id"),
                col(TeamMembership.team_id) == bindparam("old_team_id")),
            batch,
        )
        progress_of.advance(len(batch))
    not_in_file = sum(1 for number in existing if number not in people)
    return ImportReport(len(new_rows), len(changed_rows), unchanged, len(joins), len(leaves),
                        not_in_file)


class _Progress:
    def __init__(self, report: Callable[[int, int], None] | None, *, total: int) -> None:
        self.report = report
        self.done = 0
        self.total = total

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.report is not None:
            self.report(self.done, self.total)


def _batches(rows: list[_Row]) -> Iterator[list[_Row]]:
    """``rows`` in slices of :data:`BATCH_ROWS` (read at call time, so tests can shrink it)."""
    size = BATCH_ROWS
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
