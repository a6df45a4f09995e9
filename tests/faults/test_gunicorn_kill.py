"""Kill -9 a gunicorn worker, then the master, in the middle of a burst of answers.

Gunicorn runs as in production (2 workers x 2 threads, ``PULSE_ENV=production``) on a
free loopback port, in a process group of its own, against this test run's database.
Sixty people open their link and send a full answer, a few at a time; one worker is
killed with SIGKILL mid-burst, later the master; the group is then killed outright
(orphaned workers would keep serving the port), gunicorn is started again and everyone
not yet thanked finishes. Each answer carries a unique marker in its free text, so it
can be traced to its link without the app ever linking them.

Afterwards: every answer acknowledged (303) is stored exactly once; every link is
either spent with exactly one stored answer (a worker may die after the commit, before
the reply) or still usable (the form opens and the answer goes through); no answer is
stored without its link spent, and none twice.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import col, func, select

from survey_app.core.tokens import hash_secret
from survey_app.models import Invitation, ItemAnswer, Response

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
PEOPLE = 60
CONCURRENCY = 6
THINK_SECONDS = 0.15  # between opening the page and sending it: keeps the burst going
RADIO = re.compile(r'name="([a-z_]+)" type="radio" value="([a-z_]+)"')
MARKER_ITEM = "one_thing_better"
log = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class Gunicorn:
    """One gunicorn master and its workers, in a process group of their own."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                 "--threads", "2", "--timeout", "30", "--graceful-timeout", "2",
                 "--log-level", "warning", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log.read_text()}"
            if len(self.workers()) == 2 and self._healthy():
                return
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not come up:\n{self.log.read_text()}")

    def _healthy(self) -> bool:
        try:
            return request(self.port, "GET", "/healthz").status == 200
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        return _children(self.pid)

    def kill_group(self) -> None:
        """SIGKILL everything in the group (workers orphaned by a dead master too), then
        wait until nothing answers on the port."""
        if self.process is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while _port_answers(self.port):
            assert time.monotonic() < deadline, "something still serves the port"
            time.sleep(0.05)
        self.process = None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def request(port: int, method: str, path: str, body: dict[str, str] | None = None,
            cookie: str | None = None) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        headers = {"Connection": "close"}
        if cookie:
            headers["Cookie"] = cookie
        payload = None
        if body is not None:
            payload = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
    finally:
        connection.close()


# A worker killed mid-request: refused, reset, or a reply cut off part way
# (IncompleteRead), all mean the reply was lost, whatever the server committed.
LOST_REPLY = (OSError, http.client.HTTPException)


@dataclass
class Person:
    index: int
    token: str
    acknowledged: bool = False
    posted: bool = False  # a POST was sent, whatever became of it
    outcomes: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/p/{self.token}"

    @property
    def marker(self) -> str:
        return f"fault-test marker {self.index:03d}"


def answer(port: int, person: Person, hidden_fields: Callable[[bytes], dict[str, str]],
           think: float = 0.0) -> None:
    """Open the link, read the page, send a full answer; record what happened."""
    try:
        page = request(port, "GET", person.path)
    except LOST_REPLY as error:
        person.outcomes.append(f"GET {type(error).__name__}")
        return
    if page.status != 200:
        person.outcomes.append(f"GET {page.status}")
        return
    cookie = page.headers.get("set-cookie", "").split(";", 1)[0]
    form = hidden_fields(page.body)
    assert "csrf_token" in form and "shown" in form, "the page has no form"
    for name, value in RADIO.findall(page.body.decode()):
        form.setdefault(name, value)  # the first option of every question shown
    form[MARKER_ITEM] = person.marker
    time.sleep(think)
    person.posted = True
    try:
        sent = request(port, "POST", person.path, body=form, cookie=cookie)
    except LOST_REPLY as error:
        person.outcomes.append(f"POST {type(error).__name__}")
        return
    person.outcomes.append(f"POST {sent.status}")
    # A refused post is a 303 too, back to the page: only one to the thank-you acknowledges.
    if sent.status == 303 and "/thank-you/" in sent.headers.get("location", ""):
        person.acknowledged = True


@pytest.fixture
def gunicorn(migrated_database: str, tmp_path: Path) -> Iterator[Gunicorn]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PULSE_ENV": "production",
        "PULSE_SECRET_KEY": "fault-test-secret-key-" + "s" * 40,
        "PULSE_BASE_URL": "https://pulse.fault.test",
        "PULSE_PSEUDONYM_KEY": "fault-test-pseudonym-key-" + "p" * 40,
        "PULSE_TOTP_KEY": "i0LmX-yzMJopIjcqDMmRklHt-qTyBFBSAfWI7W_A_70=",
        "PULSE_RATELIMIT_STORAGE_URL": "memory://",
        "PULSE_DATABASE_URL": migrated_database,
        "PYTHONUNBUFFERED": "1",
    }
    server = Gunicorn(_free_port(), env, tmp_path / "gunicorn.log")
    try:
        yield server
    finally:
        server.kill_group()


def _markers(session: Any) -> dict[str, int]:
    session.expire_all()
    rows = session.exec(
        select(ItemAnswer.text, func.count()).where(ItemAnswer.item_id == MARKER_ITEM)
        .group_by(ItemAnswer.text)
    ).all()
    return {text: count for text, count in rows}


def _spent(session: Any, people: list[Person]) -> set[int]:
    session.expire_all()
    by_hash = {hash_secret(person.token): person.index for person in people}
    hashes = session.exec(select(Invitation.token_hash).where(
        col(Invitation.token_hash).in_(list(by_hash)), col(Invitation.used))).all()
    return {by_hash[h] for h in hashes}


def _count(session: Any, model: Any, *where: Any) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


pytestmark = pytest.mark.db


def test_answers_survive_kill_9_of_a_worker_and_then_the_master(
        app, session, open_wave, hidden_fields, gunicorn):
    wave = open_wave(size=PEOPLE)
    people = [Person(index, token) for index, token in enumerate(wave.tokens.values())]
    gunicorn.start()
    first_workers = gunicorn.workers()

    done = threading.Semaphore(0)

    def one(person: Person) -> None:
        try:
            answer(gunicorn.port, person, hidden_fields, think=THINK_SECONDS)
        finally:
            done.release()

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        futures = [pool.submit(one, person) for person in people]
        finished = 0
        killed_worker = killed_master = False
        deadline = time.monotonic() + 40
        while finished < PEOPLE:
            assert time.monotonic() < deadline, "the burst did not finish"
            if done.acquire(timeout=0.01):
                finished += 1
            acknowledged = sum(person.acknowledged for person in people)
            if not killed_worker and acknowledged >= 10:
                os.kill(first_workers[0], signal.SIGKILL)
                killed_worker, at_worker = True, finished
            if killed_worker and not killed_master and finished >= 30:
                os.kill(gunicorn.pid, signal.SIGKILL)
                killed_master, at_master = True, finished
        for future in futures:
            future.result()  # an assertion in a thread fails the test here
    assert killed_worker and killed_master
    gunicorn.kill_group()  # the orphaned worker too; then the port is free

    # Down: what the database holds now is what the crash left behind.
    acknowledged = {p.index for p in people if p.acknowledged}
    markers = _markers(session)
    spent = _spent(session, people)
    for person in people:
        stored = markers.get(person.marker, 0)
        assert stored <= 1, f"{person.index} stored {stored} times: {person.outcomes}"
        if person.index in acknowledged:
            assert stored == 1 and person.index in spent, person.outcomes
        assert (person.index in spent) == (stored == 1), person.outcomes
        if not person.posted:
            assert stored == 0, person.outcomes
    assert _count(session, Response) == len(spent), "an answer without its link spent"
    assert 10 <= len(acknowledged) < PEOPLE, (at_worker, at_master)
    outcomes: dict[str, int] = {}
    for person in people:
        key = " ".join(person.outcomes) or "none"
        outcomes[key] = outcomes.get(key, 0) + 1
    # In the captured log of a failure (or with --log-cli-level=INFO): how the crash fell.
    log.info(f"killed a worker after {at_worker}, the master after {at_master}; "
          f"{len(spent)} spent, {len(spent) - len(acknowledged)} of them unacknowledged; "
          f"outcomes {outcomes}")

    gunicorn.start()
    for person in people:
        if person.index in acknowledged:
            continue
        page = request(gunicorn.port, "GET", person.path)
        if person.index in spent:  # committed, then the worker died before replying
            assert page.status == 410, person.outcomes
            assert b"already answered" in page.body
            continue
        assert page.status == 200, person.outcomes  # still usable
        answer(gunicorn.port, person, hidden_fields)
        assert person.acknowledged, person.outcomes

    markers = _markers(session)
    assert all(markers.get(person.marker) == 1 for person in people), markers
    assert len(_spent(session, people)) == PEOPLE
    assert _count(session, Response, col(Response.wave_id) == wave.wave_id) == PEOPLE
    assert _count(session, Invitation, col(Invitation.used)) == PEOPLE
    for person in people[:3]:  # and a spent link stays spent after all this
        again = request(gunicorn.port, "GET", person.path)
        assert again.status == 410
