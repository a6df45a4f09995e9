"""Applying a parsed roster to the database: all or nothing, and idempotent.

People are matched by ESR employee number within the INT. A re-import of
the same file changes nothing; a leave date stops a person being invited; a
person's team memberships follow the file. People missing from the file are
left as they are (a partial export must not make a team vanish) and counted,
so the admin can see them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, col, select

from survey_app.models import Neighbourhood, StaffMember, Team, TeamMembership
from survey_app.scheduling.roster import RosterParse, RosterRow

PERSON_FIELDS = ("name", "email", "mobile", "profession", "start_date", "leave_date")


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


def import_roster(session: Session, *, neighbourhood: Neighbourhood,
                  parsed: RosterParse) -> ImportReport:
    """Apply the rows; raises :class:`RosterError` (changing nothing) if any row is bad."""
    if parsed.errors:
        raise RosterError(parsed)
    people: dict[str, RosterRow] = {}
    teams_of: dict[str, set[str]] = defaultdict(set)
    for row in parsed.rows:
        people.setdefault(row.employee_number, row)
        teams_of[row.employee_number].add(row.team_slug)
    team_ids = {team.slug: team.id or 0 for team in session.exec(
        select(Team).where(Team.neighbourhood_id == neighbourhood.id))}
    existing = {member.employee_number: member for member in session.exec(
        select(StaffMember).where(StaffMember.neighbourhood_id == neighbourhood.id,
                                  col(StaffMember.employee_number).is_not(None)))}
    new_rows, changed_rows = [], []
    unchanged = 0
    for number, row in people.items():
        values = {field: getattr(row, field) for field in PERSON_FIELDS}
        member = existing.get(number)
        if member is None:
            new_rows.append({"neighbourhood_id": neighbourhood.id, "employee_number": number,
                             "reminders_opt_out": False, **values})
        elif any(getattr(member, field) != value for field, value in values.items()):
            # Bind names must differ from column names in an UPDATE ... executemany.
            changed_rows.append({"member_id": member.id,
                                 **{f"new_{field}": value for field, value in values.items()}})
        else:
            unchanged += 1
    if new_rows:
        session.execute(insert(StaffMember), new_rows)
    if changed_rows:
        session.connection().execute(
            update(StaffMember).where(col(StaffMember.id) == bindparam("member_id"))
            .values({field: bindparam(f"new_{field}") for field in PERSON_FIELDS}),
            changed_rows,
        )
    ids = dict(session.exec(
        select(StaffMember.employee_number, StaffMember.id)
        .where(StaffMember.neighbourhood_id == neighbourhood.id,
               col(StaffMember.employee_number).in_(list(people)))
    ).all())
    current: dict[int, set[int]] = defaultdict(set)
    for member_id, team_id in session.exec(
        select(TeamMembership.staff_member_id, TeamMembership.team_id)
        .where(col(TeamMembership.staff_member_id).in_(list(ids.values())))
    ).all():
        current[member_id].add(team_id)
    joins, leaves = [], []
    for number, slugs in teams_of.items():
        person = ids[number] or 0
        wanted = {team_ids[slug] for slug in slugs}
        joins += [{"staff_member_id": person, "team_id": t} for t in wanted - current[person]]
        leaves += [(person, t) for t in current[person] - wanted]
    if joins:
        session.execute(insert(TeamMembership), joins)
    for member_id, team_id in leaves:
        session.execute(delete(TeamMembership).where(
            col(TeamMembership.staff_member_id) == member_id,
            col(TeamMembership.team_id) == team_id))
    not_in_file = sum(1 for number in existing if number not in people)
    return ImportReport(len(new_rows), len(changed_rows), unchanged, len(joins), len(leaves),
                        not_in_file)

