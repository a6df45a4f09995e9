"""A realistic synthetic INT for demos and manual testing (fixed seed, no real people).

Riverside INT has four teams of 15-40 staff (a few people in two teams, some
with no email or phone), twelve monthly waves whose response rate drifts from
about 70% to about 40% (survey fatigue), a district nursing team whose
engagement genuinely improves after a change made mid-year, and one open wave.
Phone numbers come from Ofcom's drama range and emails from a reserved domain.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session, col, select

from questionnaires import Instrument, Item
from survey_app.core import tokens
from survey_app.core.instruments import ensure_version
from survey_app.demo.logo import demo_logo
from survey_app.demo.patients import load_patients
from survey_app.models import (
    Invitation,
    ItemAnswer,
    Neighbourhood,
    Response,
    StaffMember,
    Team,
    TeamMembership,
    Wave,
)
from survey_app.pulse.aggregates import summarise_wave
from survey_app.pulse.branding import set_logo
from survey_app.pulse.responses import choose_items
from survey_app.pulse.waves import is_open, open_wave
from survey_app.reporting.actions import add_action

SEED = 20261123
INT_SLUG = "riverside"
INT_NAME = "Riverside Integrated Neighbourhood Team"
EMAIL_DOMAIN = "riverside-int.example"
MONTHLY_WAVES = 12
IMPROVING_TEAM = "district-nursing"
IMPROVEMENT_FROM_WAVE = 5  # 0-based: the change lands before the sixth wave


@dataclass(frozen=True, slots=True)
class TeamPlan:
    slug: str
    name: str
    size: int
    professions: tuple[str, ...]
    baseline: float  # latent engagement, in answer-scale steps around "neither"


TEAMS = (
    TeamPlan("district-nursing", "District nursing", 28,
             ("District nurse", "Community staff nurse", "Healthcare assistant",
              "Nursing associate"), 0.2),
    TeamPlan("gp-practice", "Riverside Medical Practice", 36,
             ("GP", "Practice nurse", "Receptionist", "Practice manager",
              "Clinical pharmacist", "Social prescriber"), 0.7),
    TeamPlan("social-care", "Adult social care", 22,
             ("Social worker", "Occupational therapist", "Domiciliary carer",
              "Care coordinator"), 0.4),
    TeamPlan("mental-health", "Community mental health", 17,
             ("Mental health nurse", "Psychologist", "Support worker", "Psychiatrist"), 0.5),
)
# People who also work in a second team (by index within the first team).
SHARED_STAFF = {("gp-practice", 4): "mental-health", ("gp-practice", 5): "mental-health",
                ("district-nursing", 2): "social-care"}
# Healthcare assistants in the open wave's team with no work email or phone (by index
# within the team), so `flask wave codes` has code cards to print for the demo.
NO_CONTACT_STAFF = {(IMPROVING_TEAM, 9), (IMPROVING_TEAM, 13), (IMPROVING_TEAM, 25)}

FIRST_NAMES = ("Amara", "Ben", "Chloe", "Dev", "Ellie", "Farah", "George", "Hana", "Idris",
               "Jess", "Kwame", "Lily", "Mo", "Niamh", "Owen", "Priya", "Rory", "Sana",
               "Tom", "Uma", "Vik", "Wen", "Yusuf", "Zara", "Alfie", "Bea", "Cal", "Dina")
LAST_NAMES = ("Adeyemi", "Brown", "Chen", "Davies", "Evans", "Fraser", "Gill", "Hughes",
              "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel",
              "Quinn", "Roberts", "Singh", "Taylor", "Uddin", "Vaughan", "Walsh", "Young")
COMMENTS = (
    "More time for handovers between shifts.",
    "A shared contact list for the other services in the neighbourhood.",
    "Fewer duplicate referrals between the practice and community teams.",
    "Regular joint case reviews with social care.",
    "Somewhere to park near the health centre.",
    "Better IT so we can see each other's notes.",
    "Keep the weekly huddle going, it has really helped.",
    "Clearer ownership of discharge follow-ups.",
)


def is_loaded(session: Session) -> bool:
    return session.exec(
        select(Neighbourhood.id).where(Neighbourhood.slug == INT_SLUG)
    ).first() is not None


def open_wave_id(session: Session, *, now: datetime) -> int | None:
    """The demo INT's open wave, if one is open at ``now``."""
    candidates = session.exec(
        select(Wave)
        .join(Team, col(Team.id) == col(Wave.team_id))
        .join(Neighbourhood, col(Neighbourhood.id) == col(Team.neighbourhood_id))
        .where(Neighbourhood.slug == INT_SLUG, col(Wave.closed_at).is_(None))
        .order_by(col(Wave.id).desc())
    ).all()
    return next((wave.id for wave in candidates if is_open(wave, now)), None)


def ensure_open_wave(session: Session, *, now: datetime, instrument: Instrument) -> int:
    """The demo's open wave; if the last one has closed, a new one for the same team."""
    wave_id = open_wave_id(session, now=now)
    if wave_id is not None:
        return wave_id
    team = session.exec(
        select(Team).join(Neighbourhood, col(Neighbourhood.id) == col(Team.neighbourhood_id))
        .where(Neighbourhood.slug == INT_SLUG, Team.slug == IMPROVING_TEAM)
    ).one()
    # A demo re-run, so the fatigue gap is not applied.
    opened = open_wave(session, team=team, instrument=instrument, now=now, days=14,
                       respect_gap=False)
    assert opened.wave.id is not None  # nosec B101  # narrows a type for mypy
    return opened.wave.id


def load(session: Session, *, now: datetime, instruments: Mapping[str, Instrument],
         pseudonym_key: bytes, totp_key: bytes) -> str:
    """Create the demo INT; returns a one-line summary. The caller commits.

    ``totp_key`` encrypts the demo lead's and admin's two-step secrets (PULSE_TOTP_KEY).
    """
    instrument = instruments["team-pulse"]
    rng = random.Random(SEED)  # nosec B311  # seeded synthetic demo data, not a secret
    neighbourhood = Neighbourhood(
        slug=INT_SLUG, name=INT_NAME,
        display_name=f"{INT_NAME}, part of NHS North Example ICB",
        contact_text="Riverside INT office, Riverside Health Centre: Monday to Friday, "
                     "9am to 5pm.",
        contact_email=f"int.office@{EMAIL_DOMAIN}", contact_phone="0113 496 0123")
    set_logo(neighbourhood, demo_logo())
    session.add(neighbourhood)
    session.flush()
    assert neighbourhood.id is not None  # nosec B101  # narrows a type for mypy
    version = ensure_version(session, instrument=instrument)
    members_by_team: dict[str, list[tuple[int, float]]] = {}
    team_rows: dict[str, Team] = {}
    for plan in TEAMS:
        team = Team(neighbourhood_id=neighbourhood.id, slug=plan.slug, name=plan.name)
        session.add(team)
        team_rows[plan.slug] = team
    session.flush()
    used_names: set[str] = set()
    for plan in TEAMS:
        members_by_team.setdefault(plan.slug, [])
        for index in range(plan.size):
            member = _new_member(rng, plan, neighbourhood.id, now.date(), used_names)
            if (plan.slug, index) in NO_CONTACT_STAFF:
                # Chosen rather than drawn, so the seeded draws (the rest of the demo) stay.
                member.email = member.mobile = None
            session.add(member)
            session.flush()
            assert member.id is not None  # nosec B101  # narrows a type for mypy
            propensity = rng.gauss(0.0, 0.8)
            members_by_team[plan.slug].append((member.id, propensity))
            second = SHARED_STAFF.get((plan.slug, index))
            if second:
                members_by_team.setdefault(second, []).append((member.id, propensity))
    for slug, members in members_by_team.items():
        session.execute(insert(TeamMembership), [
            {"staff_member_id": member_id, "team_id": team_rows[slug].id}
            for member_id, _ in members
        ])
    first_month = _add_months(_month_start(now), -MONTHLY_WAVES)
    answered = 0
    assert version.id is not None  # nosec B101  # narrows a type for mypy
    for wave_index in range(MONTHLY_WAVES):
        opens_at = _first_monday(_add_months(first_month, wave_index))
        for plan in TEAMS:
            answered += _closed_wave(
                session, rng, instrument, version.id, team_rows[plan.slug], plan,
                members_by_team[plan.slug], wave_index, opens_at,
            )
    open_summary = _open_demo_wave(session, rng, instrument, team_rows[IMPROVING_TEAM],
                                   members_by_team[IMPROVING_TEAM], now)
    patients_summary = load_patients(
        session, rng=rng, neighbourhood=neighbourhood, first_month=first_month,
        instruments=dict(instruments), pseudonym_key=pseudonym_key, totp_key=totp_key,
        now=now,
    )
    _demo_actions(session, neighbourhood=neighbourhood, teams=team_rows,
                  first_wave=_first_monday(first_month), now=now)
    staff = sum(plan.size for plan in TEAMS)
    return (f"{len(TEAMS)} teams, {staff} staff, {MONTHLY_WAVES * len(TEAMS)} closed waves "
            f"with {answered} responses, {open_summary}; {patients_summary}")


# "You said, we did": what the demo's leads did, in weeks after the first wave.
DEMO_ACTIONS = (
    (IMPROVING_TEAM, 14, "Plan",
     "Staff said handovers eat into visits. Agreed to trial a protected daily huddle."),
    (IMPROVING_TEAM, 19, "Do",
     "Started a 15-minute protected huddle each morning and a shared visit board."),
    (IMPROVING_TEAM, 36, "Study",
     "Reviewed three months of pulses with the team: engagement up, huddle kept."),
    ("gp-practice", 40, "Plan",
     "Staff asked for fewer reminders: the pulse now sends one reminder, not two."),
)


def _demo_actions(session: Session, *, neighbourhood: Neighbourhood, teams: Mapping[str, Team],
                  first_wave: datetime, now: datetime) -> None:
    for slug, weeks, stage, description in DEMO_ACTIONS:
        add_action(session, neighbourhood=neighbourhood, team_id=teams[slug].id or 0,
                   taken_on=(first_wave + timedelta(weeks=weeks)).date(),
                   description=description, stage=stage, user_id=None, now=now)


def _new_member(rng: random.Random, plan: TeamPlan, neighbourhood_id: int, today: date,
                used_names: set[str]) -> StaffMember:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if f"{first} {last}" not in used_names:
            break
    used_names.add(f"{first} {last}")
    profession = rng.choice(plan.professions)
    # Some carers and support workers have no work email or phone: they get printed codes.
    offline = profession in ("Domiciliary carer", "Support worker") and rng.random() < 0.6
    email = None if offline else f"{first}.{last}@{EMAIL_DOMAIN}".lower()
    mobile = None if offline or rng.random() < 0.3 else f"07700 900{rng.randrange(1000):03d}"
    return StaffMember(
        neighbourhood_id=neighbourhood_id, name=f"{first} {last}", email=email, mobile=mobile,
        profession=profession, start_date=today - timedelta(days=rng.randrange(400, 4000)),
    )


def _closed_wave(session: Session, rng: random.Random, instrument: Instrument,
                 version_id: int, team: Team, plan: TeamPlan,
                 members: list[tuple[int, float]], wave_index: int, opens_at: datetime) -> int:
    closes_at = opens_at + timedelta(days=14)
    wave = Wave(team_id=team.id or 0, questionnaire_version_id=version_id, opens_at=opens_at,
                closes_at=closes_at, closed_at=closes_at)
    session.add(wave)
    session.flush()
    assert wave.id is not None  # nosec B101  # narrows a type for mypy
    # Fatigue: the response rate drifts from ~70% to ~40% over the year.
    rate = 0.70 - 0.30 * wave_index / (MONTHLY_WAVES - 1) + rng.uniform(-0.04, 0.04)
    shift = 1.4 if plan.slug == IMPROVING_TEAM and wave_index >= IMPROVEMENT_FROM_WAVE else 0.0
    invitations, responses, answers = [], [], []
    for member_id, propensity in members:
        responded = rng.random() < rate
        invitations.append({"wave_id": wave.id, "staff_member_id": member_id,
                            "token_hash": tokens.hash_secret(tokens.new_token()),
                            "used": responded})
        if responded:
            latent = plan.baseline + propensity + shift
            response, rows = _synthetic_response(rng, instrument, wave.id, latent, wave_index)
            responses.append(response)
            answers.extend(rows)
    rng.shuffle(responses)
    session.execute(insert(Invitation), invitations)
    if responses:
        session.execute(insert(Response), responses)
        session.execute(insert(ItemAnswer), answers)
    summarise_wave(session, wave=wave, now=closes_at)
    return len(responses)


def _synthetic_response(rng: random.Random, instrument: Instrument, wave_id: int,
                        latent: float, wave_index: int) -> tuple[dict[str, object],
                                                                 list[dict[str, object]]]:
    item_ids = choose_items(instrument, rng)
    response_id = f"{rng.getrandbits(128):032x}"
    rows: list[dict[str, object]] = []
    for item_id in item_ids:
        item = instrument.item(item_id)
        value = _synthetic_answer(rng, item, latent, wave_index)
        if value is not None:
            is_text = item.kind == "text"
            rows.append({"response_id": response_id, "item_id": item_id,
                         "choice": None if is_text else value,
                         "text": value if is_text else None})
    seconds = max(15, int(rng.gauss(70 - 2 * wave_index, 15)))
    response = {"id": response_id, "wave_id": wave_id, "items_shown": json.dumps(item_ids),
                "completion_seconds": 5 * round(seconds / 5)}
    return response, rows


def _synthetic_answer(rng: random.Random, item: Item, latent: float,
                      wave_index: int) -> str | None:
    # Item non-response and "Don't know" creep up a little as people tire.
    if rng.random() < 0.03 + 0.004 * wave_index:
        return None
    if item.kind == "text":
        return rng.choice(COMMENTS) if rng.random() < 0.25 else None
    if item.dont_know and rng.random() < 0.04 + 0.003 * wave_index:
        return "dont_know"
    scored = [option for option in item.options if option.score is not None]
    # Options run from worst to best; "neither" sits at the middle step.
    step = latent + rng.gauss(0.0, 0.9)
    index = min(len(scored) - 1, max(0, int(math.floor(step + len(scored) / 2))))
    ordered = sorted(scored, key=lambda option: option.score or 0.0)
    return ordered[index].value


def _open_demo_wave(session: Session, rng: random.Random, instrument: Instrument, team: Team,
                    members: list[tuple[int, float]], now: datetime) -> str:
    opened = open_wave(session, team=team, instrument=instrument, now=now, days=14,
                       respect_gap=False)
    wave = opened.wave
    wave.opens_at = now - timedelta(days=3)
    wave.closes_at = now + timedelta(days=11)
    session.add(wave)
    # A few colleagues have answered already.
    invitations = session.exec(select(Invitation).where(Invitation.wave_id == wave.id)).all()
    early = rng.sample(list(invitations), k=len(invitations) // 4)
    propensity = dict(members)
    responses, answers = [], []
    for invitation in early:
        invitation.used = True
        session.add(invitation)
        latent = TEAMS[0].baseline + propensity[invitation.staff_member_id] + 1.4
        response, rows = _synthetic_response(rng, instrument, wave.id or 0, latent, MONTHLY_WAVES)
        responses.append(response)
        answers.extend(rows)
    session.flush()
    if responses:
        session.execute(insert(Response), responses)
        session.execute(insert(ItemAnswer), answers)
    return f"wave {wave.id} open for {team.name} with {len(responses)} early answers"


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=9, minute=0, second=0, microsecond=0)


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=total // 12, month=total % 12 + 1)


def _first_monday(month_start: datetime) -> datetime:
    return month_start + timedelta(days=(7 - month_start.weekday()) % 7)
