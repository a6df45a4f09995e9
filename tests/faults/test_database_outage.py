"""The database goes away while someone answers: a calm 503, the link kept, a recovery
without restarting the app.

The outage is real, not a mocked function: every new connection is pointed at a port
nobody listens on (PostgreSQL) or at a file that cannot be opened (SQLite), the pool is
emptied, and in the mid-request case the connection in use dies just as the link is
about to be spent (PostgreSQL: its backend is terminated; SQLite: an I/O error).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import func, select

from survey_app import create_app
from survey_app.accounts import api_tokens
from survey_app.core.db import get_engine, make_engine
from survey_app.models import Invitation, Response

CALM = "try again in a moment"
# What must never reach a person or the log: exception text, driver names, the secret.
LEAKS = ("OperationalError", "psycopg", "sqlite3", "Traceback", "refused", "unable to open",
         "closed database", "terminating connection", "SELECT", "UPDATE")


class Outage:
    """Switches the app's database off and on again, on a live engine."""

    def __init__(self, engine: Engine, tmp_path: Any) -> None:
        self.engine = engine
        self.down = False
        self._closed_port = socket.socket()
        self._closed_port.bind(("127.0.0.1", 0))  # bound, never listening: refused
        self._missing = str(tmp_path / "no-such-directory" / "pulse.sqlite3")

    def _redirect(self, _dialect: Any, _record: Any, cargs: list[Any],
                  cparams: dict[str, Any]) -> None:
        if not self.down:
            return
        if self.engine.dialect.name == "sqlite":
            cargs[0] = f"file:{self._missing}?mode=rw"
            cparams["uri"] = True
        else:
            cparams["host"] = "127.0.0.1"
            cparams["port"] = self._closed_port.getsockname()[1]

    def start(self) -> None:
        self.down = True
        self.engine.dispose()  # pooled connections go; every new one fails

    def stop(self) -> None:
        self.down = False

    @contextmanager
    def installed(self) -> Iterator[Outage]:
        event.listen(self.engine, "do_connect", self._redirect)
        try:
            yield self
        finally:
            self.down = False
            event.remove(self.engine, "do_connect", self._redirect)
            self._closed_port.close()


@pytest.fixture
def outage(app, tmp_path) -> Iterator[Outage]:
    with Outage(get_engine(app), tmp_path).installed() as switch:
        yield switch


def _used(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Invitation)
                        .where(Invitation.used)).one()


def _responses(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Response)).one()


def _assert_calm(response: Any, secret: str) -> None:
    assert response.status_code == 503
    assert response.headers.get("Retry-After")
    page = response.get_data(as_text=True)
    assert CALM in page.lower()
    assert secret not in page
    for leak in LEAKS:
        assert leak.lower() not in page.lower(), leak


def _assert_log_clean(caplog: pytest.LogCaptureFixture, secret: str) -> None:
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "database unavailable" in logged
    assert secret not in logged
    for leak in LEAKS[1:]:
        assert leak.lower() not in logged.lower(), leak
    assert not any(record.exc_info for record in caplog.records)


def _answer(form: dict[str, str]) -> dict[str, str]:
    return {**form, "recommend_work": "likely", "recommend_care": "extremely_likely",
            "one_thing_better": "More time for handovers"}


def test_an_answer_sent_while_the_database_is_down_gets_503_and_keeps_the_link(
        app, client, session, open_wave, hidden_fields, outage, caplog):
    wave = open_wave(size=3)
    url = wave.urls[0]
    secret = url.rsplit("/", 1)[1]
    page = client.get(url)
    assert page.status_code == 200
    form = _answer(hidden_fields(page.data))

    outage.start()
    caplog.set_level(logging.INFO)
    refused = client.post(url, data=form)
    _assert_calm(refused, secret)
    assert refused.headers["Cache-Control"] == "no-store"  # still a link page
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["database"] == "unreachable"
    again = client.post(url, data=form)  # pressing send again changes nothing
    _assert_calm(again, secret)
    _assert_log_clean(caplog, secret)

    outage.stop()  # the database is back; the same app, not restarted
    assert client.get("/healthz").status_code == 200
    assert _used(session) == 0 and _responses(session) == 0
    assert client.get(url).status_code == 200  # the link still opens the form
    sent = client.post(url, data=form)  # and the answers kept in the page go through
    assert sent.status_code == 303 and "/thank-you/" in sent.headers["Location"]
    assert _used(session) == 1 and _responses(session) == 1
    again = client.post(url, data=form, follow_redirects=True)  # back to the page: spent
    assert again.status_code == 410 and _responses(session) == 1


def _kill_connection_at_spend(engine: Engine, outage: Outage) -> list[str]:
    """The next UPDATE of an invitation finds its connection dead, and the database gone
    (PostgreSQL: the server ends the backend; SQLite: the connection is closed under it)."""
    killed: list[str] = []

    def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if killed or not statement.lstrip().upper().startswith("UPDATE INVITATION"):
            return
        killed.append(statement)
        outage.start()
        if engine.dialect.name == "sqlite":  # the file's handle is gone
            conn.connection.dbapi_connection.close()
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        helper = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            with helper.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            helper.dispose()

    event.listen(engine, "before_cursor_execute", before)
    return killed


def test_the_connection_dying_as_the_link_is_spent_gets_503_and_keeps_the_link(
        app, client, session, open_wave, hidden_fields, outage, caplog):
    wave = open_wave(size=3)
    url = wave.urls[1]
    secret = url.rsplit("/", 1)[1]
    form = _answer(hidden_fields(client.get(url).data))
    engine = get_engine(app)
    killed = _kill_connection_at_spend(engine, outage)
    caplog.set_level(logging.INFO)

    refused = client.post(url, data=form)
    assert killed, "the submission never reached the UPDATE"
    _assert_calm(refused, secret)
    assert client.get("/healthz").status_code == 503
    assert client.get(url).status_code == 503  # opening the link: the same calm page
    _assert_log_clean(caplog, secret)

    outage.stop()
    assert client.get("/healthz").status_code == 200
    assert _used(session) == 0 and _responses(session) == 0
    assert client.get(url).status_code == 200
    sent = client.post(url, data=form)
    assert sent.status_code == 303 and "/thank-you/" in sent.headers["Location"]
    assert _used(session) == 1 and _responses(session) == 1


def test_signed_in_pages_and_the_api_say_the_same_calmly(app, client, make_user, login,
                                                        outage):
    make_user("admin")
    assert login(client, "admin@example.test").status_code == 302
    outage.start()
    page = client.get("/reports/")
    assert page.status_code == 503
    assert CALM in page.get_data(as_text=True).lower()
    token = f"{api_tokens.TOKEN_PREFIX}{'x' * 40}"  # well formed, so it is looked up
    api = client.get("/api/v1/ints", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 503
    assert api.get_json()["error"] == "unavailable"
    outage.stop()
    assert client.get("/reports/").status_code == 200


def _raising(error: Exception) -> Callable[[], str]:
    def view() -> str:
        raise error
    return view


def test_other_database_errors_stay_500s_and_only_outages_are_503(tmp_path):
    """A constraint broken is Pulse's fault, not the database's absence: no 'try again'."""
    app = create_app({"TESTING": False, "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e.db"})
    broken = IntegrityError("INSERT INTO response ... 'secret answer'", {}, Exception("dup"))
    gone = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    cut = DBAPIError("SELECT 1", {}, Exception("bad"), connection_invalidated=True)
    app.add_url_rule("/broken", "broken", _raising(broken))
    app.add_url_rule("/gone", "gone", _raising(gone))
    app.add_url_rule("/cut", "cut", _raising(cut))
    client = app.test_client()
    page = client.get("/broken")
    assert page.status_code == 500 and b"secret answer" not in page.data
    assert CALM not in page.get_data(as_text=True).lower()
    for path in ("/gone", "/cut"):
        page = client.get(path)
        assert page.status_code == 503 and CALM in page.get_data(as_text=True).lower()
        assert b"server closed" not in page.data
    get_engine(app).dispose()
