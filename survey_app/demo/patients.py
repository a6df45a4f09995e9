"""The demo INT's patients: sites, a kiosk, accounts and a year of activation ratings.

The story the reports should tell: at Riverside Community Hub group
consultations start half-way through the year and its patients' activation
genuinely rises; at Riverside Medical Practice nothing changes, yet patients
who started low still tend to score higher next time (regression to the mean).
NHS numbers come from the 999 range the NHS keeps for testing, and are stored
only as pseudonyms, like real ones.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert
from sqlmodel import Session

from questionnaires import Instrument
from survey_app.accounts import mfa, users
from survey_app.activation import sites
from survey_app.activation.nhs_number import pseudonymise
from survey_app.core.instruments import ensure_version
from survey_app.models import ActivationRating, ExperienceRating, Neighbourhood

DEMO_PASSWORD = "pulse-demo-password"  # nosec B105  # the documented demo-only password
DEMO_USERS = (("recorder@riverside-int.example", "recorder"),
              ("lead@riverside-int.example", "lead"),
              ("admin@riverside-int.example", "admin"))
# The demo's lead and admin come with two-step sign-in set up, with these documented
# secrets (``flask demo load`` prints them): add one to any authenticator app.
DEMO_TOTP_SECRETS = {  # nosec B105  # demo-only, documented, never loaded in production
    "lead@riverside-int.example": "EXTQYBUUSDVXOUKS52KBQ5ULER7IQOLY",
    "admin@riverside-int.example": "BTDXKYUB4YEEQ32NBPSFDXFSZYKGV243",
}
GROUP_SITE = "RCH"
STEADY_SITE = "RMP"
GROUP_FROM_MONTH = 6  # 0-based month of the year when group consultations start
MONTHS = 12


@dataclass(frozen=True, slots=True)
class SitePlan:
    code: str
    name: str
    kind: str
    patients: int
    visits_per_month: int


SITES = (
    SitePlan(STEADY_SITE, "Riverside Medical Practice", "gp_practice", 260, 70),
    SitePlan("RHC", "Riverside Health Centre clinics", "clinic", 140, 35),
    SitePlan("RPH", "High Street Pharmacy", "pharmacy", 120, 25),
    SitePlan(GROUP_SITE, "Riverside Community Hub", "community_venue", 150, 40),
)
CONSULTATIONS = {"gp_practice": ("gp", "gp", "nurse", "pharmacist", "social_prescriber"),
                 "clinic": ("nurse", "nurse", "other"),
                 "pharmacy": ("pharmacist",),
                 "community_venue": ("social_prescriber", "other")}
EXPERIENCE = ("very_good", "very_good", "good", "good", "good", "neither", "poor", "dont_know")


def synthetic_nhs_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct valid NHS numbers from the 999 testing range."""
    numbers: set[str] = set()
    while len(numbers) < count:
        body = "999" + f"{rng.randrange(1_000_000):06d}"
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            numbers.add(body + str(check))
    return sorted(numbers)


def load_patients(session: Session, *, rng: random.Random, neighbourhood: Neighbourhood,
                  first_month: datetime, instruments: dict[str, Instrument],
                  pseudonym_key: bytes, totp_key: bytes, now: datetime) -> str:
    """Create sites, one kiosk, demo accounts (the lead and admin enrolled in two-step
    sign-in with :data:`DEMO_TOTP_SECRETS`) and ratings; returns a summary."""
    site_rows = {
        plan.code: sites.create_site(session, neighbourhood=neighbourhood, code=plan.code,
                                     name=plan.name, kind=plan.kind)
        for plan in SITES
    }
    sites.enrol_kiosk(session, site=site_rows[STEADY_SITE], name="Waiting-room tablet",
                      ask_experience=True, now=now)
    for email, role in DEMO_USERS:
        user = users.create_user(session, email=email, password=DEMO_PASSWORD, role=role,
                                 now=now, neighbourhood_slugs=() if role == "admin"
                                 else (neighbourhood.slug,))
        if email in DEMO_TOTP_SECRETS:
            mfa.enrol_with_secret(session, user=user, secret=DEMO_TOTP_SECRETS[email],
                                  key=totp_key, now=now)
    activation_version = ensure_version(session, instrument=instruments["patient-activation"])
    experience_version = ensure_version(session, instrument=instruments["patient-fft"])
    ratings: list[dict[str, object]] = []
    experiences: list[dict[str, object]] = []
    for plan in SITES:
        site = site_rows[plan.code]
        numbers = synthetic_nhs_numbers(rng, plan.patients)
        latent = {number: rng.gauss(2.55, 0.65) for number in numbers}
        for month in range(MONTHS):
            year, month_number = _month(first_month, month)
            days = calendar.monthrange(year, month_number)[1]
            for _ in range(plan.visits_per_month):
                number = rng.choice(numbers)
                group = (plan.code == GROUP_SITE and month >= GROUP_FROM_MONTH
                         and rng.random() < 0.7)
                # Group consultations genuinely raise activation, and people who
                # keep coming to them gain more as the months go by.
                gain = (0.6 + 0.05 * (month - GROUP_FROM_MONTH)) if group else 0.0
                value = min(4, max(1, round(latent[number] + gain + rng.gauss(0.0, 0.6))))
                channel = rng.choices(("clinician", "kiosk", "qr"), weights=(6, 2.5, 1.5))[0]
                with_number = channel == "clinician" and rng.random() < 0.75
                consultation = ("group" if group else rng.choice(CONSULTATIONS[plan.kind])) \
                    if channel == "clinician" else None
                on = date(year, month_number, rng.randint(1, days))
                ratings.append({
                    "id": f"{rng.getrandbits(128):032x}", "site_id": site.id, "rated_on": on,
                    "channel": channel, "consultation_type": consultation,
                    "proxy": channel == "clinician" and rng.random() < 0.05,
                    "easy_read": channel != "clinician" and rng.random() < 0.1,
                    "questionnaire_version_id": activation_version.id, "rating": value,
                    "patient_pseudonym": pseudonymise(number, pseudonym_key) if with_number
                    else None,
                    "idempotency_key": f"{rng.getrandbits(128):032x}",
                })
                if channel != "clinician" and rng.random() < 0.7:
                    experiences.append({
                        "id": f"{rng.getrandbits(128):032x}", "site_id": site.id,
                        "rated_on": on, "channel": channel,
                        "questionnaire_version_id": experience_version.id,
                        "answer": rng.choice(EXPERIENCE),
                        "idempotency_key": f"{rng.getrandbits(128):032x}",
                    })
    session.execute(insert(ActivationRating), ratings)
    session.execute(insert(ExperienceRating), experiences)
    return (f"{len(SITES)} sites with {len(ratings)} activation ratings and "
            f"{len(experiences)} experience answers")


def _month(first_month: datetime, offset: int) -> tuple[int, int]:
    total = first_month.year * 12 + first_month.month - 1 + offset
    return total // 12, total % 12 + 1

