"""Load test: staff answering a 5,000-person wave through Gunicorn, against a bare Flask app.

For each database (a SQLite file in a temporary folder, then the PostgreSQL
database ``pulse_bench``, dropped and created afresh) it migrates, creates an
INT, a team of 5,000 and opens a wave (the domain functions), and writes the
5,000 personal link paths to a file. It serves the app with Gunicorn on loopback
with the production settings (``PULSE_ENV=production``, a random secret and
pseudonym key, Redis db 13 for the limits, no SMTP or Notify; 2 workers per
core, 4 threads each, as in the deployment notes) and drives it with wrk
(``bench/load.lua``): at 50 and then 200 connections, each connection takes the
next unused link, GETs the pulse page, reads its CSRF token, signed item list,
radio items and session cookie, and POSTs a full answer; a 303 to the thank-you
page is an acknowledged submission. 2,500 links per concurrency, each used once.

Beside it, in the same run and with the same Gunicorn settings, wrk drives
``bench/bare_app.py`` (a constant 2 KB page and a constant redirect, no
extensions, no database; ``bench/bare.lua``) at the same concurrency for a fixed
time: the baseline that says how much of the figure is this machine.

It prints submissions/s, latency percentiles (per submission: GET sent to POST
acknowledged; per request: GETs and POSTs together, as for the baseline),
errors (statuses >= 400, socket errors, requests lost to broken connections)
and the ratio to the baseline; then checks the database: responses stored ==
acknowledged posts, the links spent are exactly the acknowledged ones (so none
twice), item answers stored == item answers acknowledged, and a sample of
acknowledged links now answers 410. Figures only, no timing asserts; it exits 1
if a database check fails.

Run: .venv/bin/python bench/load.py [sqlite] [postgresql]
(PULSE_BENCH_POSTGRES_URL overrides postgresql+psycopg://postgres@127.0.0.1:5432/pulse_bench)
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import redis
from sqlalchemy import func, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app import create_app  # noqa: E402
from survey_app.core.clock import utcnow  # noqa: E402
from survey_app.core.db import get_engine, make_engine, upgrade  # noqa: E402
from survey_app.core.tokens import hash_secret  # noqa: E402
from survey_app.models import (  # noqa: E402
    Invitation,
    ItemAnswer,
    Response,
    StaffMember,
    TeamMembership,
)
from survey_app.pulse import teams, waves  # noqa: E402

BENCH = ROOT / "bench"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CORES = os.cpu_count() or 1
WORKERS, THREADS = 2 * CORES, 4
LINKS = 5_000
CONCURRENCY = (50, 200)
PER_RUN = LINKS // len(CONCURRENCY)  # links used at each concurrency
BARE_SECONDS = 10
WRK_LIMIT_SECONDS = 150  # a stuck run still ends
REPLAY_SAMPLE = 20
POSTGRES_URL = os.environ.get("PULSE_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/pulse_bench")
REDIS_URL = "redis://127.0.0.1:6379/13"
HEADERS = {"X-Forwarded-Proto": "https", "User-Agent": "pulse-bench-load"}


# -- the database ---------------------------------------------------------------------

def fresh_postgres(url: str) -> str:
    """Drop and create the bench database (never another)."""
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def build(url: str, links_file: Path) -> int:
    """Migrate, then an INT, a team of LINKS people and an open wave; write the link paths."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_urlsafe(48),
                      "TESTING": True})
    upgrade(app)
    engine = get_engine(app)
    with Session(engine, expire_on_commit=False) as session:
        neighbourhood = teams.create_neighbourhood(session, slug="bench-load", name="Bench INT")
        team = teams.create_team(session, neighbourhood=neighbourhood, slug="everyone",
                                 name="Everyone")
        session.execute(insert(StaffMember), [
            {"neighbourhood_id": neighbourhood.id, "name": f"Person {i}",
             "email": f"person{i}@bench.example", "profession": "Nurse",
             "reminders_opt_out": False} for i in range(LINKS)])
        ids = session.exec(select(StaffMember.id).where(
            StaffMember.neighbourhood_id == neighbourhood.id)).all()
        session.execute(insert(TeamMembership),
                        [{"staff_member_id": i, "team_id": team.id} for i in ids])
        opened = waves.open_wave(session, team=team, now=utcnow(), days=7,
                                 instrument=app.extensions["pulse_instruments"]["team-pulse"])
        session.commit()
        wave_id = opened.wave.id or 0
        links_file.write_text("".join(f"/p/{link.token}\n" for link in opened.links))
    engine.dispose()
    return wave_id


@dataclass
class Stored:
    responses: int
    item_answers: int
    spent: set[str]  # token hashes of used invitations


def stored(url: str, wave_id: int) -> Stored:
    engine = make_engine(url)
    with Session(engine) as session:
        responses = session.exec(select(func.count()).select_from(Response)
                                 .where(Response.wave_id == wave_id)).one()
        item_answers = session.exec(
            select(func.count()).select_from(ItemAnswer)
            .join(Response, col(Response.id) == col(ItemAnswer.response_id))
            .where(Response.wave_id == wave_id)).one()
        spent = set(session.exec(select(Invitation.token_hash).where(
            Invitation.wave_id == wave_id, col(Invitation.used).is_(True))).all())
    engine.dispose()
    return Stored(responses, item_answers, spent)


# -- Gunicorn -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=HEADERS)
        return connection.getresponse().status
    finally:
        connection.close()


def production_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}  # no SMTP/Notify
    env.update({
        "PULSE_ENV": "production",
        "PULSE_SECRET_KEY": secrets.token_urlsafe(48),
        "PULSE_DATABASE_URL": database_url,
        "PULSE_BASE_URL": "https://pulse.example",
        "PULSE_TRUSTED_PROXIES": "1",
        "PULSE_RATELIMIT_STORAGE_URL": REDIS_URL,
        "PULSE_PSEUDONYM_KEY": secrets.token_urlsafe(48),
    })
    return env


@contextmanager
def gunicorn(target: list[str], env: dict[str, str], ready_path: str,
             log: Path) -> Iterator[int]:
    """Serve ``target`` on a free loopback port in a process group of its own; yields the port."""
    port = free_port()
    command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
               "--threads", str(THREADS), "--log-level", "warning", *target]
    with log.open("ab") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({server.returncode}):\n"
                                   + log.read_text()[-2000:])
            try:
                if get(port, ready_path) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        stop_group(server, port)


def stop_group(server: subprocess.Popen[bytes], port: int) -> None:
    """SIGTERM the whole group (master and workers), then wait for it and for the port."""
    group = server.pid  # start_new_session: the master leads its own group
    try:
        os.killpg(group, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        server.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)  # any worker left in the group?
        except ProcessLookupError:
            if not listening(port):
                return
        time.sleep(0.1)
    print(f"  warning: gunicorn group {group} or port {port} still busy after 30 s")


# -- wrk ------------------------------------------------------------------------------

def summary_line(output: str) -> dict[str, int]:
    line = next(line for line in output.splitlines() if line.startswith("PULSE_SUMMARY"))
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}


@dataclass
class Run:
    connections: int
    acked: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    latency: dict[str, list[float]] = field(default_factory=dict)
    answers_acked: int = 0
    seconds: float = 0.0
    wrk: dict[str, int] = field(default_factory=dict)


def drive_app(port: int, connections: int, links_file: Path, first: int, out: Path) -> Run:
    """wrk with bench/load.lua, one connection per thread, until every thread's slice is done."""
    out.mkdir()
    env = {**os.environ, "PULSE_LOAD_LINKS": str(links_file), "PULSE_LOAD_FIRST": str(first),
           "PULSE_LOAD_TOTAL": str(PER_RUN), "PULSE_LOAD_THREADS": str(connections),
           "PULSE_LOAD_OUT": str(out)}
    command = [WRK, "-t", str(connections), "-c", str(connections),
               "-d", f"{WRK_LIMIT_SECONDS}s", "--timeout", "60s",
               "-s", str(BENCH / "load.lua"), f"http://127.0.0.1:{port}"]
    wrk = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert wrk.stdout is not None
    lines, finished = [], 0
    for line in wrk.stdout:
        lines.append(line)
        if line.startswith("PULSE_DONE"):
            finished += 1
            if finished == connections:
                wrk.send_signal(signal.SIGINT)  # wrk sleeps out -d otherwise
    wrk.wait()
    run = Run(connections, wrk=summary_line("".join(lines)))
    started, ended = [], []
    for part in sorted(out.glob("thread-*.txt")):
        for line in part.read_text().splitlines():
            key, _, rest = line.partition(" ")
            if key == "started":
                started.append(float(rest))
            elif key == "ended":
                ended.append(float(rest))
            elif key == "answers_acked":
                run.answers_acked += int(rest)
            elif key == "count":
                name, _, n = rest.rpartition(" ")
                run.counts[name] += int(n)
            elif key == "latency":
                kind, _, value = rest.partition(" ")
                run.latency.setdefault(kind, []).append(float(value))
            elif key == "acked":
                run.acked.append(rest)
    if finished < connections:
        print(f"  warning: only {finished} of {connections} wrk threads finished their links")
    started = [s for s in started if s > 0]
    run.seconds = max(ended) - min(started) if started and ended else float("nan")
    return run


def drive_bare(port: int, connections: int) -> dict[str, int]:
    command = [WRK, "-t", str(connections), "-c", str(connections), "-d", f"{BARE_SECONDS}s",
               "--timeout", "60s", "-s", str(BENCH / "bare.lua"), f"http://127.0.0.1:{port}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return summary_line(done.stdout)


# -- figures --------------------------------------------------------------------------

def ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def socket_errors(summary: dict[str, int]) -> int:
    return sum(summary[k] for k in ("connect", "read", "write", "timeout"))


def report(run: Run, bare: dict[str, int]) -> None:
    rate = len(run.acked) / run.seconds
    bare_pairs = bare["requests"] / 2 / (bare["duration_us"] / 1e6)
    requests = run.latency.get("get", []) + run.latency.get("post", [])
    bare_ms = [bare[f"p{q}_us"] / 1000 for q in (50, 95, 99)]
    statuses = {k: n for k, n in sorted(run.counts.items())
                if k.split()[-1].isdigit() and int(k.split()[-1]) >= 400}
    broken = {k: n for k, n in run.counts.items() if k in ("get lost", "post lost",
                                                           "get unparsed")}
    sub = [ms(run.latency.get("submission", []), q) for q in (50, 95, 99)]
    req = [ms(requests, q) for q in (50, 95, 99)]
    print(f"  {run.connections} connections: {len(run.acked):,} of {PER_RUN:,} acknowledged "
          f"in {run.seconds:.1f} s = {rate:.1f} submissions/s "
          f"(bare pairs {bare_pairs:.0f}/s, ratio {rate / bare_pairs:.3f})")
    print(f"    submission latency p50/p95/p99: {sub[0]:.0f} / {sub[1]:.0f} / {sub[2]:.0f} ms")
    print(f"    request latency    p50/p95/p99: {req[0]:.0f} / {req[1]:.0f} / {req[2]:.0f} ms"
          f"  (bare {bare_ms[0]:.1f} / {bare_ms[1]:.1f} / {bare_ms[2]:.1f} ms; "
          f"p50 ratio {req[0] / bare_ms[0]:.0f}x)")
    kinds = ", ".join(f"{k} {run.wrk[k]}" for k in ("connect", "read", "write", "timeout"))
    print(f"    errors: statuses >= 400 {statuses or 'none'}; socket errors "
          f"{socket_errors(run.wrk)} ({kinds}); "
          f"lost or unparsed {broken or 'none'}; bare: statuses >= 400 {bare['status']}, "
          f"socket errors {socket_errors(bare)}")


def check(url: str, wave_id: int, runs: list[Run], before: Stored, port: int) -> bool:
    """The database holds exactly what was acknowledged, and spent links stay spent."""
    after = stored(url, wave_id)
    run = runs[-1]
    acked_all = [path for r in runs for path in r.acked]
    acked_hashes = {hash_secret(path.removeprefix("/p/")) for path in acked_all}
    sample = run.acked[:: max(1, len(run.acked) // REPLAY_SAMPLE)][:REPLAY_SAMPLE]
    replays = Counter(get(port, path) for path in sample)
    results = {
        "responses stored == acknowledged posts":
            (after.responses - before.responses, len(run.acked)),
        "links spent == acknowledged posts": (len(after.spent - before.spent), len(run.acked)),
        "no link acknowledged twice": (len(acked_all), len(set(acked_all))),
        "spent links are exactly the acknowledged ones (all runs)":
            (len(after.spent ^ acked_hashes), 0),
        "item answers stored == item answers acknowledged":
            (after.item_answers - before.item_answers, run.answers_acked),
        f"replayed acknowledged links answer 410 (sample of {len(sample)})":
            (replays.get(410, 0), len(sample)),
    }
    ok = all(got == want for got, want in results.values())
    print(f"    database check: {'OK' if ok else 'FAILED'}")
    for name, (got, want) in results.items():
        print(f"      {'ok ' if got == want else 'BAD'} {name}: {got:,} vs {want:,}")
    if replays.keys() - {410}:
        print(f"      replay statuses: {dict(replays)}")
    return ok


def bench_database(kind: str, folder: Path) -> bool:
    url = (f"sqlite:///{folder}/pulse-load.sqlite3" if kind == "sqlite"
           else fresh_postgres(POSTGRES_URL))
    links_file = folder / f"links-{kind}.txt"
    started = time.perf_counter()
    wave_id = build(url, links_file)
    print(f"\n{kind}: migrated, wave {wave_id} of {LINKS:,} invitations opened "
          f"in {time.perf_counter() - started:.1f} s")
    redis.Redis.from_url(REDIS_URL).flushdb()  # db 13 only
    log = folder / f"gunicorn-{kind}.log"
    bare = {}
    with gunicorn(["--pythonpath", str(BENCH), "bare_app:app"], production_env(url),
                  "/page", log) as port:
        for connections in CONCURRENCY:
            bare[connections] = drive_bare(port, connections)
    ok = True
    runs: list[Run] = []
    with gunicorn(["wsgi:app"], production_env(url), "/healthz", log) as port:
        for index, connections in enumerate(CONCURRENCY):
            before = stored(url, wave_id)
            run = drive_app(port, connections, links_file, 1 + index * PER_RUN,
                            folder / f"wrk-{kind}-{connections}")
            runs.append(run)
            report(run, bare[connections])
            ok = check(url, wave_id, runs, before, port) and ok
    errors = [line for line in log.read_text().splitlines() if "Traceback" in line
              or "ERROR" in line or "CRITICAL" in line]
    if errors:
        print(f"  gunicorn log: {len(errors)} error lines, e.g. {errors[0][:200]}")
    return ok


def main(kinds: list[str]) -> int:
    print(f"cores: {CORES}; gunicorn: {WORKERS} workers x {THREADS} threads; wrk: one "
          f"connection per thread, {PER_RUN:,} links at each of {CONCURRENCY} connections; "
          f"baseline {BARE_SECONDS} s each")
    ok = True
    with tempfile.TemporaryDirectory(prefix="pulse-load-") as folder:
        for kind in kinds:
            ok = bench_database(kind, Path(folder)) and ok
    print(f"\ndatabase checks: {'all OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["sqlite", "postgresql"]))
