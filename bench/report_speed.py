"""Time the report pages at 10^4 and at 10^6 stored staff answers, in the same run.

Builds two synthetic SQLite databases: a small one (one INT) and an ICB (20 INTs,
400 teams, 36 closed waves each, 10^6 staff answers and 2 x 10^5 patient
activation ratings), summarised at close as the app does, with a progress bar.
Then, signed in as an admin through the real login form, times the server
answering GET for the INT overview, a team page and the activation report (the
whole request: queries, analysis, charts, template), and prints each with the
ratio large/small. Target: ratio <= 2 and each page < 300 ms at 10^6, because
reports read the per-wave aggregates (and GROUP BY for ratings), never raw answers
into Python.

Run: .venv/bin/python bench/report_speed.py [ANSWERS_LARGE]
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import insert
from sqlmodel import Session, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app import create_app  # noqa: E402
from survey_app.accounts import mfa, users  # noqa: E402
from survey_app.core.db import get_engine, upgrade  # noqa: E402
from survey_app.core.instruments import ensure_version  # noqa: E402
from survey_app.models import (  # noqa: E402
    ActivationRating,
    Invitation,
    ItemAnswer,
    Neighbourhood,
    Response,
    Site,
    StaffMember,
    Team,
    Wave,
)
from survey_app.pulse.aggregates import summarise_wave  # noqa: E402
from survey_app.pulse.responses import choose_items  # noqa: E402

INTS, TEAMS_PER_INT, WAVES = 20, 20, 36  # an ICB: 400 teams, 36 waves each
STAFF_PER_TEAM = 12
RATINGS_PER_INT = 10_000  # 2 x 10^5 across the ICB
SITES_PER_INT = 4
PASSWORD = "bench password 1234"
# An admin signs in with a password and a TOTP code, as in production (no bypass).
TOTP_KEY = "i0LmX-yzMJopIjcqDMmRklHt-qTyBFBSAfWI7W_A_70="
TOTP_SECRET = "RJLX6VRZBCNOYSOOFUVCLE7VDBFYHRU6"
START = datetime(2024, 1, 1, 9, tzinfo=UTC)


def build(app, answers_wanted: int, rng: random.Random,  # type: ignore[no-untyped-def]
          ints: int) -> None:
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    waves_total = ints * TEAMS_PER_INT * WAVES
    # About six answers per response (core, three rotating, some free text).
    responses_per_wave = max(1, round(answers_wanted / waves_total / 6))
    with Session(get_engine(app), expire_on_commit=False) as session:
        version = ensure_version(session, instrument=instrument)
        with click.progressbar(length=ints * TEAMS_PER_INT, label=f"Building {answers_wanted:,}",
                               file=sys.stderr) as bar:
            for int_index in range(ints):
                neighbourhood = Neighbourhood(slug=f"int-{int_index}", name=f"INT {int_index}")
                session.add(neighbourhood)
                session.flush()
                for team_index in range(TEAMS_PER_INT):
                    _team(session, rng, instrument, version.id or 0, neighbourhood,
                          team_index, responses_per_wave)
                    bar.update(1)
                _ratings(session, rng, app, neighbourhood)
                session.commit()
        admin = users.create_user(session, email="bench-admin@example.test",
                                  password=PASSWORD, role="admin", now=START)
        mfa.enrol_with_secret(session, user=admin, secret=TOTP_SECRET,
                              key=app.config["PULSE_TOTP_KEY"], now=START)
        session.commit()


def _ratings(session, rng, app, neighbourhood):  # type: ignore[no-untyped-def]
    """Patient activation ratings over 18 months at the INT's sites; a third followed up."""
    activation = app.extensions["pulse_instruments"]["patient-activation"]
    version = ensure_version(session, instrument=activation)
    sites = []
    for index in range(SITES_PER_INT):
        site = Site(neighbourhood_id=neighbourhood.id, code=f"S{neighbourhood.id}X{index}",
                    name=f"Site {index}", kind="gp_practice")
        session.add(site)
        sites.append(site)
    session.flush()
    patients = [f"{rng.getrandbits(256):064x}" for _ in range(RATINGS_PER_INT // 6)]
    rows = []
    for _ in range(RATINGS_PER_INT):
        rows.append({
            "id": f"{rng.getrandbits(128):032x}", "site_id": rng.choice(sites).id,
            "rated_on": (START + timedelta(days=rng.randrange(540))).date(),
            "channel": rng.choice(("clinician", "kiosk", "qr")), "proxy": False,
            "easy_read": False, "questionnaire_version_id": version.id,
            "rating": rng.choice((1, 2, 2, 3, 3, 3, 4)),
            "patient_pseudonym": rng.choice(patients) if rng.random() < 0.33 else None,
            "idempotency_key": f"{rng.getrandbits(128):032x}"})
    session.execute(insert(ActivationRating), rows)


def _team(session, rng, instrument, version_id, neighbourhood, team_index,  # type: ignore[no-untyped-def]
          responses_per_wave):
    team = Team(neighbourhood_id=neighbourhood.id, slug=f"team-{team_index}",
                name=f"Team {team_index}")
    session.add(team)
    session.flush()
    staff = [{"neighbourhood_id": neighbourhood.id, "name": f"P{team.id}-{i}",
              "profession": "Nurse", "reminders_opt_out": False}
             for i in range(STAFF_PER_TEAM)]
    session.execute(insert(StaffMember), staff)
    staff_ids = list(session.exec(select(StaffMember.id).where(
        StaffMember.neighbourhood_id == neighbourhood.id).order_by(StaffMember.id.desc())
        .limit(STAFF_PER_TEAM)))
    for wave_index in range(WAVES):
        opens = START + timedelta(weeks=4 * wave_index)
        wave = Wave(team_id=team.id, questionnaire_version_id=version_id, opens_at=opens,
                    closes_at=opens + timedelta(days=14), closed_at=opens + timedelta(days=14))
        session.add(wave)
        session.flush()
        session.execute(insert(Invitation), [
            {"wave_id": wave.id, "staff_member_id": staff_id,
             "token_hash": f"{rng.getrandbits(256):064x}", "used": False}
            for staff_id in staff_ids])
        responses, answers = [], []
        for _ in range(responses_per_wave):
            response_id = f"{rng.getrandbits(128):032x}"
            shown = choose_items(instrument, rng)
            responses.append({"id": response_id, "wave_id": wave.id,
                              "items_shown": json.dumps(shown), "completion_seconds": 60})
            for item_id in shown:
                item = instrument.item(item_id)
                if item.kind == "text":
                    if rng.random() < 0.2:
                        answers.append({"response_id": response_id, "item_id": item_id,
                                        "choice": None, "text": "Better rotas"})
                    continue
                answers.append({"response_id": response_id, "item_id": item_id,
                                "choice": rng.choice(item.values), "text": None})
        session.execute(insert(Response), responses)
        session.execute(insert(ItemAnswer), answers)
        summarise_wave(session, wave=wave, now=wave.closed_at)


def timed(function, repeats: int = 9) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


PAGES = ("INT overview", "team page", "activation")


def measure(answers_wanted: int, folder: str, ints: int) -> tuple[int, int, list[float]]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/r{answers_wanted}.db",
                      "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PULSE_TOTP_KEY": TOTP_KEY})
    upgrade(app)
    build(app, answers_wanted, random.Random(answers_wanted), ints)
    with Session(get_engine(app)) as session:
        stored = session.exec(select(func.count()).select_from(ItemAnswer)).one()
        ratings = session.exec(select(func.count()).select_from(ActivationRating)).one()
        neighbourhood = session.exec(select(Neighbourhood)).first()
        team = session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id)
                            ).first() if neighbourhood else None
        assert neighbourhood is not None and team is not None
        urls = (f"/reports/{neighbourhood.slug}",
                f"/reports/{neighbourhood.slug}/teams/{team.slug}",
                f"/reports/{neighbourhood.slug}/activation")
    # Timed in a fresh process, as a server worker would serve it: the build
    # leaves millions of objects behind in this one, and every garbage
    # collection during a request would walk them.
    timer = subprocess.run([sys.executable, __file__, "--time", url_of(app), *urls],
                           check=True, capture_output=True, text=True)
    return stored, ratings, json.loads(timer.stdout)


def url_of(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.config["SQLALCHEMY_DATABASE_URI"])


def time_pages(database_url: str, urls: list[str]) -> list[float]:
    """Sign in through the login form, then the median server time of each URL."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PULSE_TOTP_KEY": TOTP_KEY})
    client = app.test_client()
    password_step = client.post("/login", data={"email": "bench-admin@example.test",
                                                "password": PASSWORD})
    assert password_step.headers["Location"] == "/login/code", password_step.status_code
    signed_in = client.post("/login/code", data={
        "code": mfa.code_at(TOTP_SECRET, moment=datetime.now(UTC))})
    assert signed_in.status_code == 302, signed_in.status_code

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    for url in urls:
        get(url)  # the first request of each page warms its templates and caches
    return [timed(lambda url=url: get(url)) for url in urls]


def main(large: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # The small database is one INT (10^4 answers cannot fill an ICB's waves);
        # the large one is the whole ICB. Every INT is the same size in both.
        small_n, small_ratings, small = measure(10_000, folder, ints=1)
        large_n, large_ratings, large_times = measure(large, folder, ints=INTS)
    print("server time per page (median of 9 GETs in a fresh process, ms)")
    print(f"{'stored answers':>15} {'ratings':>9} " + " ".join(f"{p:>13}" for p in PAGES))
    print(f"{small_n:>15,} {small_ratings:>9,} " + " ".join(f"{t:>13.1f}" for t in small))
    print(f"{large_n:>15,} {large_ratings:>9,} " + " ".join(f"{t:>13.1f}" for t in large_times))
    print("ratio large/small: " + ", ".join(
        f"{page} {lt / st:.2f}x" for page, st, lt in zip(PAGES, small, large_times, strict=True))
        + " (target <= 2; each < 300 ms at 10^6)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--time"]:
        print(json.dumps(time_pages(sys.argv[2], sys.argv[3:])))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
