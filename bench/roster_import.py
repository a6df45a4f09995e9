"""Import a 10,000-row ESR-style roster and print how long each step takes.

Builds a synthetic CSV (four teams, a few people in two teams, some leavers),
imports it into a fresh database, then imports it again (which must change
nothing), and prints the timings.

Run: .venv/bin/python bench/roster_import.py [ROWS]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app import create_app  # noqa: E402
from survey_app.core.db import get_engine, upgrade  # noqa: E402
from survey_app.models import Neighbourhood, Team  # noqa: E402
from survey_app.scheduling import roster  # noqa: E402
from survey_app.scheduling.roster_import import import_roster, known_teams  # noqa: E402

TEAMS = ("district-nursing", "gp-practice", "social-care", "mental-health")
HEADER = "Employee Number,Full Name,Work Email,Mobile,Team,Staff Group,Start Date,Leave Date\n"


def synthetic_csv(rows: int, rng: random.Random) -> bytes:
    lines = [HEADER]
    person = 0
    while len(lines) <= rows:
        person += 1
        teams = rng.sample(TEAMS, 2 if rng.random() < 0.03 else 1)
        leave = "31/10/2026" if rng.random() < 0.05 else ""
        for team in teams:
            lines.append(f"{20400000 + person},Person {person},person{person}@bench.example,"
                         f"07700 900{person % 1000:03d},{team},Nursing,01/04/2020,{leave}\n")
    return "".join(lines[:rows + 1]).encode()


def main(rows: int) -> None:
    data = synthetic_csv(rows, random.Random(7))
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                          "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True})
        upgrade(app)
        with Session(get_engine(app), expire_on_commit=False) as session:
            neighbourhood = Neighbourhood(slug="bench", name="Bench INT")
            session.add(neighbourhood)
            session.flush()
            for slug in TEAMS:
                session.add(Team(neighbourhood_id=neighbourhood.id or 0, slug=slug, name=slug))
            session.commit()
            for attempt in ("first import", "re-import"):
                started = time.perf_counter()
                parsed = roster.parse_roster(data, known_teams=known_teams(
                    session, neighbourhood=neighbourhood))
                parsed_at = time.perf_counter()
                report = import_roster(session, neighbourhood=neighbourhood, parsed=parsed)
                session.commit()
                done = time.perf_counter()
                print(f"{attempt:<13} {rows:,} rows: parse {parsed_at - started:.2f} s, "
                      f"import {done - parsed_at:.2f} s, total {done - started:.2f} s; "
                      f"{report.summary()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
