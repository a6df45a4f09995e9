"""Time the report data at 10^4 and at 10^6 stored staff answers, in the same run.

Builds two synthetic databases (SQLite files, or PostgreSQL schemas' worth of
rows under PULSE_BENCH_DATABASE_URL), each an ICB of INTs, teams and closed
waves with responses and answers, summarised at close as the app does. Then
times the INT overview (services.reports.int_overview) and a team's series
(services.reports.team_series, the team page's data) on each, and prints both
and their ratio. Target: ratio <= 2 and each under 300 ms at 10^6, because
reports read the per-wave aggregates, never raw answers.

Run: .venv/bin/python bench/report_speed.py [ANSWERS_LARGE]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app import create_app  # noqa: E402
from survey_app.db import get_engine, upgrade  # noqa: E402
from survey_app.models import (  # noqa: E402
    Invitation,
    ItemAnswer,
    Neighbourhood,
    Response,
    StaffMember,
    Team,
    Wave,
)
from survey_app.services import reports  # noqa: E402
from survey_app.services.aggregates import summarise_wave  # noqa: E402
from survey_app.services.instruments import ensure_version  # noqa: E402
from survey_app.services.responses import choose_items  # noqa: E402

INTS, TEAMS_PER_INT, WAVES = 20, 20, 36  # an ICB: 400 teams, 36 waves each
STAFF_PER_TEAM = 12
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
                session.commit()


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


def timed(function, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(answers_wanted: int, folder: str, ints: int) -> tuple[int, float, float]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/r{answers_wanted}.db",
                      "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True})
    upgrade(app)
    build(app, answers_wanted, random.Random(answers_wanted), ints)
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    with Session(get_engine(app)) as session:
        stored = session.exec(select(ItemAnswer.item_id)).all()
        neighbourhood = session.exec(select(Neighbourhood)).first()
        team = session.exec(select(Team)).first()
        assert neighbourhood is not None and team is not None
        overview = timed(lambda: reports.int_overview(
            session, neighbourhood=neighbourhood, instrument=instrument, threshold=5))
        series = timed(lambda: reports.team_series(session, team_id=team.id or 0))
    return len(stored), overview, series


def main(large: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # The small database is one INT (10^4 answers cannot fill an ICB's waves);
        # the large one is the whole ICB. Every INT is the same size in both.
        small_n, small_overview, small_series = measure(10_000, folder, ints=1)
        large_n, large_overview, large_series = measure(large, folder, ints=INTS)
    print(f"{'stored answers':>15} {'INT overview ms':>16} {'team series ms':>15}")
    print(f"{small_n:>15,} {small_overview:>16.1f} {small_series:>15.1f}")
    print(f"{large_n:>15,} {large_overview:>16.1f} {large_series:>15.1f}")
    print(f"ratio large/small: overview {large_overview / small_overview:.2f}x, "
          f"team series {large_series / small_series:.2f}x (target <= 2; < 300 ms at 10^6)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
