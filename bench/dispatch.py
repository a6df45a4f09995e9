"""Open a scheduled wave for a very large team and send its invitations; print time and memory.

Builds a fresh SQLite database (or PULSE_BENCH_DATABASE_URL), a team of N staff,
and a schedule due now, then times one tick split into its parts: creating the
invitations and queued messages in batches, and dispatching them through the
development outbox. Peak Python memory (tracemalloc) is printed for 10,000 and
for 100,000 invitations in the same run: flat memory means the ratio stays
near 1 while the work grows tenfold.

Run: .venv/bin/python bench/dispatch.py [N ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app import create_app  # noqa: E402
from survey_app.core.db import get_engine, upgrade  # noqa: E402
from survey_app.models import Neighbourhood, StaffMember, Team, TeamMembership  # noqa: E402
from survey_app.scheduling import schedules, tick  # noqa: E402
from survey_app.scheduling.channels.outbox import OutboxChannel  # noqa: E402
from survey_app.scheduling.channels.routing import Channels  # noqa: E402
from survey_app.scheduling.dispatch import dispatch  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def build(session: Session, size: int) -> None:
    neighbourhood = Neighbourhood(slug=f"bench-{size}", name="Bench INT")
    session.add(neighbourhood)
    session.flush()
    team = Team(neighbourhood_id=neighbourhood.id or 0, slug="everyone", name="Everyone")
    session.add(team)
    session.flush()
    for start in range(0, size, 10_000):
        rows = [{"neighbourhood_id": neighbourhood.id, "name": f"Person {i}",
                 "email": f"person{i}@bench.example", "profession": "Nurse",
                 "reminders_opt_out": False} for i in range(start, min(size, start + 10_000))]
        session.execute(insert(StaffMember), rows)
    ids = session.exec(select(StaffMember.id).where(
        StaffMember.neighbourhood_id == neighbourhood.id)).all()
    for start in range(0, len(ids), 10_000):
        session.execute(insert(TeamMembership), [
            {"staff_member_id": i, "team_id": team.id} for i in ids[start:start + 10_000]])
    schedules.set_schedule(
        session, neighbourhood=neighbourhood, team=team, items_per_pulse=6, now=NOW,
        settings=schedules.ScheduleSettings(cadence_kind="monthly", weekday=1, nth=1,
                                            start_date=date(2026, 12, 1)))
    session.commit()


def measure(app, size: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    engine = get_engine(app)
    with Session(engine, expire_on_commit=False) as session:
        build(session, size)
    outbox = OutboxChannel(lambda message: None)
    channels = Channels(outbox=outbox)
    links = tick.LinkSettings("https://pulse.example", "bench-secret-key-" + "x" * 32)
    instrument = app.extensions["pulse_instruments"]["team-pulse"]
    tracemalloc.start()
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        tick.open_due_waves(session, now=NOW, instrument=instrument, channels=channels)
        opened = time.perf_counter() - started
        _, open_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        report = dispatch(session, channels=channels, now=NOW, batch_size=500, links=links)
        sent = time.perf_counter() - started
        _, send_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.sent == size, report
    return {"open_s": opened, "send_s": sent, "open_peak_mb": open_peak / 2**20,
            "send_peak_mb": send_peak / 2**20}


def main(sizes: list[int]) -> None:
    url = os.environ.get("PULSE_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench.db",
                          "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True})
        upgrade(app)
        print(f"database: {get_engine(app).dialect.name}")
        print(f"{'invitations':>12} {'open s':>8} {'send s':>8} {'open MB':>8} {'send MB':>8}")
        results = {}
        for size in sizes:
            figures = measure(app, size)
            results[size] = figures
            print(f"{size:>12,} {figures['open_s']:>8.1f} {figures['send_s']:>8.1f} "
                  f"{figures['open_peak_mb']:>8.1f} {figures['send_peak_mb']:>8.1f}")
        if len(sizes) >= 2:
            small, large = results[sizes[0]], results[sizes[-1]]
            print(f"peak memory ratio {sizes[-1]:,} / {sizes[0]:,}: open "
                  f"{large['open_peak_mb'] / small['open_peak_mb']:.2f}x, send "
                  f"{large['send_peak_mb'] / small['send_peak_mb']:.2f}x "
                  f"(work ratio {sizes[-1] / sizes[0]:.0f}x)")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000, 100_000])
