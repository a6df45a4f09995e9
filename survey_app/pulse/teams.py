"""Neighbourhoods (INTs), their teams and members."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, func, or_, select

from survey_app.core.retention_policy import KINDS
from survey_app.models import Neighbourhood, StaffMember, Team, TeamMembership
from survey_app.pulse.branding import Logo, set_logo

RETENTION_COLUMNS = frozenset(kind.column for kind in KINDS)


class NoSuchTeam(LookupError):
    """A team (or INT) named by a user does not exist, or the name fits more than one."""


SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# Report addresses that an INT slug would otherwise shadow (/reports/icb is the ICB view).
RESERVED_INT_SLUGS = frozenset({"icb", "fhir"})


class SetupError(ValueError):
    """An INT or team that cannot be created as asked."""


def _check_slug(slug: str, what: str) -> str:
    if not SLUG.fullmatch(slug):
        raise SetupError(f"A {what} slug is 1 to 64 lower-case letters, digits and hyphens, "
                         f"not starting or ending with a hyphen: got {slug!r}")
    return slug


def create_neighbourhood(session: Session, *, slug: str, name: str) -> Neighbourhood:
    """A new INT. Raises :class:`SetupError` for a bad, reserved or taken slug."""
    _check_slug(slug, "INT")
    if slug in RESERVED_INT_SLUGS:
        raise SetupError(f"{slug!r} is reserved for a report page; choose another slug")
    if find_neighbourhood(session, slug=slug) is not None:
        raise SetupError(f"There is already an INT {slug!r}")
    if not name.strip():
        raise SetupError("Give the INT a name")
    neighbourhood = Neighbourhood(slug=slug, name=name.strip())
    session.add(neighbourhood)
    session.flush()
    return neighbourhood


def create_team(session: Session, *, neighbourhood: Neighbourhood, slug: str,
                name: str) -> Team:
    """A new team in an INT. Raises :class:`SetupError` for a bad or taken slug."""
    _check_slug(slug, "team")
    taken = session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id,
                                            Team.slug == slug)).first()
    if taken is not None:
        raise SetupError(f"{neighbourhood.slug} already has a team {slug!r}")
    if not name.strip():
        raise SetupError("Give the team a name")
    team = Team(neighbourhood_id=neighbourhood.id or 0, slug=slug, name=name.strip())
    session.add(team)
    session.flush()
    return team


@dataclass(frozen=True, slots=True)
class TeamSummary:
    neighbourhood_slug: str
    slug: str
    name: str
    members: int


def list_teams(session: Session, *, on: date) -> list[TeamSummary]:
    """Every team with its count of current members (not yet left on ``on``)."""
    current = or_(col(StaffMember.leave_date).is_(None), col(StaffMember.leave_date) > on)
    members = (
        select(TeamMembership.team_id, func.count().label("members"))
        .join(StaffMember, col(StaffMember.id) == col(TeamMembership.staff_member_id))
        .where(current)
        .group_by(col(TeamMembership.team_id))
        .subquery()
    )
    rows = session.exec(
        select(Neighbourhood.slug, Team.slug, Team.name, func.coalesce(members.c.members, 0))
        .join(Neighbourhood, col(Neighbourhood.id) == col(Team.neighbourhood_id))
        .outerjoin(members, members.c.team_id == col(Team.id))
        .order_by(col(Neighbourhood.slug), col(Team.slug))
    ).all()
    return [TeamSummary(n, s, name, int(count)) for n, s, name, count in rows]


def find_neighbourhood(session: Session, *, slug: str) -> Neighbourhood | None:
    return session.exec(select(Neighbourhood).where(Neighbourhood.slug == slug)).first()


def find_team(session: Session, *, slug: str) -> Team:
    """A team by ``SLUG`` or ``INT/SLUG`` (needed when two INTs share a team slug).

    Raises
    ------
    NoSuchTeam
        With a message for the user when no team, or more than one, matches.
    """
    int_slug, _, team_slug = slug.rpartition("/")
    query = select(Team).where(Team.slug == team_slug)
    if int_slug:
        query = query.join(Neighbourhood).where(Neighbourhood.slug == int_slug)
    teams = session.exec(query).all()
    if not teams:
        raise NoSuchTeam(f"No team '{slug}'. `flask --app wsgi team list` shows the slugs.")
    if len(teams) > 1:
        raise NoSuchTeam(
            f"More than one INT has a team '{slug}': write it as INT/{team_slug}."
        )
    return teams[0]


def current_members(session: Session, *, team_id: int, on: date) -> list[StaffMember]:
    return list(
        session.exec(
            select(StaffMember)
            .join(TeamMembership, col(TeamMembership.staff_member_id) == col(StaffMember.id))
            .where(TeamMembership.team_id == team_id)
            .where(or_(col(StaffMember.leave_date).is_(None), col(StaffMember.leave_date) > on))
            .order_by(col(StaffMember.id))
        )
    )


def list_neighbourhoods(session: Session) -> list[Neighbourhood]:
    return list(session.exec(select(Neighbourhood).order_by(col(Neighbourhood.name))))


def teams_with_neighbourhoods(session: Session) -> list[tuple[Team, Neighbourhood]]:
    rows = session.exec(
        select(Team, Neighbourhood)
        .join(Neighbourhood, col(Neighbourhood.id) == col(Team.neighbourhood_id))
        .order_by(col(Neighbourhood.name), col(Team.name))
    ).all()
    return [(team, neighbourhood) for team, neighbourhood in rows]


@dataclass(frozen=True, slots=True)
class Display:
    """How an INT presents itself on its staff, patient and poster pages ("" = not set)."""

    display_name: str = ""
    contact_text: str = ""
    contact_email: str = ""
    contact_phone: str = ""


@dataclass(frozen=True, slots=True)
class Controller:
    """What an INT's privacy notices say of it as data controller ("" = not yet set)."""

    controller_name: str = ""
    dpo_contact: str = ""
    lawful_basis_staff: str = ""
    lawful_basis_patients: str = ""


def update_settings(session: Session, *, neighbourhood: Neighbourhood,
                    low_activation_prompt: str, invitation_gap_days: int,
                    max_messages_per_wave: int, action_stages: str | None = None,
                    display: Display | None = None, logo: Logo | None = None,
                    remove_logo: bool = False,
                    retention: Mapping[str, int] | None = None,
                    controller: Controller | None = None) -> None:
    """An INT's own settings: the clinician prompt, fatigue guardrails, improvement stages,
    and (when given) its display name, contact and logo. A new ``logo`` replaces the
    old; ``remove_logo`` without one leaves the INT with none; ``controller`` sets what
    the privacy notices say of it. ``retention`` gives days
    by retention column (``retain_answers_days``), already checked by the caller.

    Raises
    ------
    ValueError
        If ``retention`` names a column that is not a retention period.
    """
    neighbourhood.low_activation_prompt = low_activation_prompt.strip() or None
    neighbourhood.invitation_gap_days = invitation_gap_days
    neighbourhood.max_messages_per_wave = max_messages_per_wave
    if action_stages is not None:
        neighbourhood.action_stages = ",".join(s.strip() for s in action_stages.split(","))
    if display is not None:
        neighbourhood.display_name = display.display_name.strip() or None
        neighbourhood.contact_text = display.contact_text.strip() or None
        neighbourhood.contact_email = display.contact_email.strip() or None
        neighbourhood.contact_phone = display.contact_phone.strip() or None
    if controller is not None:
        neighbourhood.controller_name = controller.controller_name.strip() or None
        neighbourhood.dpo_contact = controller.dpo_contact.strip() or None
        neighbourhood.lawful_basis_staff = controller.lawful_basis_staff.strip() or None
        neighbourhood.lawful_basis_patients = controller.lawful_basis_patients.strip() or None
    if logo is not None or remove_logo:
        set_logo(neighbourhood, logo)
    for column, days in (retention or {}).items():
        if column not in RETENTION_COLUMNS:
            raise ValueError(f"{column!r} is not a retention period")
        setattr(neighbourhood, column, days)
    session.add(neighbourhood)
