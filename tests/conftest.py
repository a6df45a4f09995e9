"""Fixtures for the whole suite: one migrated database per run, emptied after each test.

The database is SQLite (a file, so threads and processes share it) unless
``PULSE_TEST_DATABASE_URL`` names another, e.g. the PostgreSQL that CI uses.
Under CI (``CI=true``) an unreachable database fails the run instead of
skipping it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Integer, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

from survey_app import create_app, demo
from survey_app.accounts import mfa, users
from survey_app.activation import sites
from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine, make_engine, upgrade
from survey_app.models import Neighbourhood, Site, StaffMember, Team, TeamMembership, User
from survey_app.pulse import waves

IN_CI = os.environ.get("CI", "").lower() == "true"
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"
PASSWORD = "correct horse battery"
# The suite's PULSE_TOTP_KEY (a Fernet key), and the two-step secret every lead and admin
# that make_user creates is enrolled with; login completes the code step with pyotp.
TOTP_KEY = "i0LmX-yzMJopIjcqDMmRklHt-qTyBFBSAfWI7W_A_70="
TOTP_SECRET = "RJLX6VRZBCNOYSOOFUVCLE7VDBFYHRU6"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Any test that builds the app touches the database: CI runs these again on PostgreSQL.
    for item in items:
        if "app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """This process's database: a SQLite file of its own, or, under pytest-xdist on
    PostgreSQL, a database per worker beside the one named (``test`` -> ``test_gw0``)."""
    # xdist names its workers here; without xdist (-p no:xdist) there is no worker_id
    # fixture, and one process needs no database of its own.
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")
    url = os.environ.get("PULSE_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pulse-test.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if worker_id != "master":
                url = _worker_database(connection, make_url(url), worker_id)
    except OperationalError as error:
        if IN_CI:
            pytest.fail(f"test database unreachable under CI: {error}")
        pytest.skip(f"test database unreachable: {error}")
    finally:
        engine.dispose()
    return url


def _worker_database(connection: Any, url: URL, worker_id: str) -> str:
    name = f"{url.database}_{worker_id}"
    if connection.dialect.name != "postgresql":
        raise pytest.UsageError("run the suite in parallel on SQLite or PostgreSQL only")
    exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                {"name": name}).first()
    connection.commit()  # CREATE DATABASE runs outside any transaction
    if not exists:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False)


def _test_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PULSE_BASE_URL": "http://pulse.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PULSE_TOTP_KEY": TOTP_KEY,
    }
    config.update(overrides)
    return config


def _drop_everything(app: Flask) -> None:
    engine = get_engine(app)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def migrated_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run (from empty), as the issue's time budget asks."""
    app = create_app(_test_config(database_url))
    _drop_everything(app)
    upgrade(app)
    get_engine(app).dispose()
    return database_url


def _empty_tables(app: Flask) -> None:
    engine = get_engine(app)
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    # DELETE, child tables first, is much faster than TRUNCATE for the few rows a
    # test leaves (TRUNCATE rewrites every table's files on PostgreSQL).
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f"DELETE FROM {table}"))
        if engine.dialect.name == "sqlite" and inspect(connection).has_table("sqlite_sequence"):
            connection.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


_UNDER_TEST: list[Flask] = []


def app_under_test() -> Flask:
    """This test's app, for steps that have only its address (a browser signing in)."""
    return _UNDER_TEST[-1]


@pytest.fixture
def app(migrated_database: str, tmp_path: Any, app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(_test_config(migrated_database, **app_config))
    _UNDER_TEST[:] = [application]
    yield application
    _empty_tables(application)
    get_engine(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    # No app context is pushed here: requests made by the test client must
    # each get their own context (and g), as they would in production.
    with Session(get_engine(app), expire_on_commit=False) as db_session:
        yield db_session


@dataclass
class OpenWave:
    wave_id: int
    team: Team
    tokens: dict[int, str]  # staff member id -> token

    def url(self, staff_member_id: int) -> str:
        return f"/p/{self.tokens[staff_member_id]}"

    @property
    def urls(self) -> list[str]:
        return [f"/p/{token}" for token in self.tokens.values()]


@pytest.fixture
def make_team(session: Session) -> Callable[..., Team]:
    """Create an INT (once) and a team of ``size`` members; returns the team."""

    def factory(slug: str = "district-nursing", size: int = 6, int_slug: str = "test-int",
                offline: int = 0) -> Team:
        neighbourhood = session.exec(
            select(Neighbourhood).where(Neighbourhood.slug == int_slug)
        ).first()
        if neighbourhood is None:
            neighbourhood = Neighbourhood(slug=int_slug, name=f"{int_slug} INT")
            session.add(neighbourhood)
            session.flush()
        team = Team(neighbourhood_id=neighbourhood.id, slug=slug,
                    name=slug.replace("-", " ").title())
        session.add(team)
        session.flush()
        for index in range(size):
            has_contact = index >= offline
            member = StaffMember(
                neighbourhood_id=neighbourhood.id, name=f"Person {slug} {index}",
                email=f"p{index}.{slug}@example.test" if has_contact else None,
                profession="Nurse",
            )
            session.add(member)
            session.flush()
            session.add(TeamMembership(staff_member_id=member.id, team_id=team.id))
        session.commit()
        return team

    return factory


@pytest.fixture
def open_wave(
    app: Flask, session: Session, make_team: Callable[..., Team]
) -> Callable[..., OpenWave]:
    """Open a wave for a new team; returns the wave id and each member's token."""

    def factory(size: int = 6, days: int = 7, slug: str = "district-nursing",
                offline: int = 0) -> OpenWave:
        team = make_team(slug=slug, size=size, offline=offline)
        opened = waves.open_wave(session, team=team, now=utcnow(), days=days,
                                 instrument=app.extensions["pulse_instruments"]["team-pulse"])
        session.commit()
        assert opened.wave.id is not None
        return OpenWave(opened.wave.id, team,
                        {link.staff_member_id: link.token for link in opened.links})

    return factory


HIDDEN = re.compile(
    r'<input[^>]*name="(csrf_token|shown|idempotency_key|easy_read)"[^>]*value="([^"]*)"'
)


@pytest.fixture
def hidden_fields() -> Callable[[bytes], dict[str, str]]:
    """The hidden form fields (CSRF token, item list, idempotency key) of the page's first form."""

    def parse(html: bytes) -> dict[str, str]:
        fields: dict[str, str] = {}
        for name, value in HIDDEN.findall(html.decode()):
            fields.setdefault(name, value)
        return fields

    return parse


@pytest.fixture
def shown_items() -> Callable[[bytes], list[str]]:
    """The item ids a rendered pulse page asks, in page order."""

    def parse(html: bytes) -> list[str]:
        names = re.findall(r'name="([a-z_]+)" (?:type="radio"|rows=)', html.decode())
        return list(dict.fromkeys(names))

    return parse



@pytest.fixture
def make_site(session: Session) -> Callable[..., Site]:
    """Create a site (and its INT if new)."""

    def factory(code: str = "RMP", int_slug: str = "test-int",
                kind: str = "gp_practice") -> Site:
        neighbourhood = session.exec(
            select(Neighbourhood).where(Neighbourhood.slug == int_slug)
        ).first()
        if neighbourhood is None:
            neighbourhood = Neighbourhood(slug=int_slug, name=f"{int_slug} INT")
            session.add(neighbourhood)
            session.flush()
        site = sites.create_site(session, neighbourhood=neighbourhood, code=code,
                                 name=f"Site {code}", kind=kind)
        session.commit()
        return site

    return factory


@pytest.fixture
def make_user(app: Flask, session: Session) -> Callable[..., User]:
    """Create a user: ``make_user("recorder", sites=["RMP"])``; password is PASSWORD.

    Leads and admins come enrolled in two-step sign-in with TOTP_SECRET (as they must
    be before any report or admin page); ``totp=False`` leaves one to enrol, and
    ``totp=True`` enrols a recorder too.
    """

    def factory(role: str, email: str | None = None, ints: tuple[str, ...] = (),
                sites: tuple[str, ...] = (), totp: bool | None = None) -> User:
        user = users.create_user(session, email=email or f"{role}@example.test",
                                    password=PASSWORD, role=role, now=utcnow(),
                                    neighbourhood_slugs=ints, site_codes=sites)
        if totp if totp is not None else mfa.is_required(user):
            mfa.enrol_with_secret(session, user=user, secret=TOTP_SECRET,
                                  key=app.config["PULSE_TOTP_KEY"], now=utcnow())
        session.commit()
        return user

    return factory


@pytest.fixture
def kiosk(client: FlaskClient, make_site: Callable[..., Site], make_user: Callable[..., User],
          hidden_fields: Callable[[bytes], dict[str, str]], login: Callable[..., Any]
          ) -> FlaskClient:
    """A test client enrolled as site RMP's kiosk, asking the FFT too (the admin who
    enrolled it is then signed out): the tablet as a patient meets it."""
    make_site("RMP")
    make_user("admin")
    login(client, "admin@example.test")
    fields = hidden_fields(client.get("/kiosk/enrol").data)
    result = client.post("/kiosk/enrol", data={**fields, "site": "RMP", "name": "Tablet 1",
                                               "ask_experience": "y"})
    assert result.status_code == 302 and result.headers["Location"] == "/kiosk"
    assert "pulse_kiosk" in result.headers.get("Set-Cookie", "")
    assert "Max-Age=34560000" in result.headers["Set-Cookie"]  # 400 days
    return client


def reachable_redis(url: str) -> Any:
    """A Redis client for ``url``; skips the test if Redis is down (fails it under CI)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        if IN_CI:
            pytest.fail(f"Redis unreachable under CI: {error}")
        pytest.skip(f"Redis unreachable: {error}")
    return client


def totp_secret_for(email: str) -> str:
    """The two-step secret a test account is enrolled with: the demo's own, or the suite's."""
    return demo.patients.DEMO_TOTP_SECRETS.get(users.normalise_email(email), TOTP_SECRET)


def fresh_totp_code(client: FlaskClient | Flask, email: str, secret: str | None = None) -> str:
    """A code the app will accept for ``email`` now, as an authenticator app would give.

    The app refuses a code for a step it has already accepted, and tests sign the same
    account in many times a second: the next step's code is accepted (one step of
    drift), and past that the fixture stands in for waiting out the 30 seconds by
    moving the account's last accepted step back, in the database, never in the app.
    """
    now = utcnow()
    step = mfa.step_at(now)
    engine = get_engine(client if isinstance(client, Flask) else client.application)
    with Session(engine) as db:
        user = db.exec(select(User).where(User.email == users.normalise_email(email))).one()
        last = user.totp_last_step
        if last is not None and last >= step + mfa.DRIFT_STEPS:
            user.totp_last_step = step - 1
            db.add(user)
            db.commit()
            last = step - 1
    use = step if last is None or last < step else step + 1
    return mfa.code_at(secret or totp_secret_for(email),
                       moment=datetime.fromtimestamp(use * mfa.STEP_SECONDS, UTC))


@pytest.fixture
def login(hidden_fields: Callable[[bytes], dict[str, str]]) -> Callable[..., Any]:
    """Sign a test client in through the real login form, with the TOTP step when it
    comes (a code from pyotp); returns the last response."""

    def sign_in(client: FlaskClient, email: str, password: str = PASSWORD,
                next_path: str | None = None) -> Any:
        fields = hidden_fields(client.get("/login").data)
        target = "/login" + (f"?next={next_path}" if next_path else "")
        response = client.post(target, data={**fields, "email": email, "password": password})
        if response.status_code != 302 or not response.headers["Location"].startswith(
                "/login/code"):
            return response
        step_page = response.headers["Location"]
        page = client.get(step_page)
        if page.status_code != 200:  # sent on to set up an app: the test carries on
            return page
        code = fresh_totp_code(client, email)
        return client.post(step_page, data={**hidden_fields(page.data), "code": code})

    return sign_in


# The demo INT is built once per test run (per worker) and kept as a snapshot: a copy of
# every table in a schema of its own, "demo_snapshot" (an attached SQLite file, or a
# PostgreSQL schema beside the tables). Each test that asks for it gets the rows copied
# back in (milliseconds, where demo.load takes seconds), and the app fixture empties
# them afterwards like any other test's rows.
SNAPSHOT = "demo_snapshot"


def _tables() -> list[str]:
    return [table.name for table in SQLModel.metadata.sorted_tables]


def _columns(table: str) -> str:
    return ", ".join(f'"{c.name}"' for c in SQLModel.metadata.tables[table].columns)


@contextmanager
def _with_snapshot(engine: Any, snapshot_file: str) -> Iterator[Any]:
    """A connection that sees the snapshot schema; what it does is committed at the end."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # outside any transaction, as SQLite requires of ATTACH and DETACH
            connection.execute(text(f"ATTACH DATABASE :path AS {SNAPSHOT}"),
                               {"path": snapshot_file})
            connection.commit()
        yield connection
        connection.commit()
        if sqlite:
            connection.execute(text(f"DETACH DATABASE {SNAPSHOT}"))
            connection.commit()


@pytest.fixture(scope="session")
def demo_snapshot(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Load the demo INT once, copy it into the snapshot schema, leave the tables empty."""
    snapshot_file = str(tmp_path_factory.mktemp("demo") / "snapshot.sqlite3")
    app = create_app(_test_config(migrated_database))
    engine = get_engine(app)
    with Session(engine) as session:
        demo.load(session, now=utcnow(), instruments=app.extensions["pulse_instruments"],
                  pseudonym_key=app.config["PULSE_PSEUDONYM_KEY"],
                  totp_key=app.config["PULSE_TOTP_KEY"])
        session.commit()
    with _with_snapshot(engine, snapshot_file) as connection:
        if connection.dialect.name != "sqlite":
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SNAPSHOT}"))
        for table in _tables():
            connection.execute(text(
                f'CREATE TABLE {SNAPSHOT}."{table}" AS SELECT {_columns(table)} FROM "{table}"'))
    _empty_tables(app)
    engine.dispose()
    return snapshot_file


def _restore_snapshot(app: Flask, snapshot_file: str) -> None:
    with _with_snapshot(get_engine(app), snapshot_file) as connection:
        for table in _tables():  # parents first, so every foreign key holds as rows land
            columns = _columns(table)
            connection.execute(text(
                f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM {SNAPSHOT}."{table}"'))
        if connection.dialect.name == "postgresql":
            # Rows came in with their ids: move each id sequence past them.
            for table in _tables():
                id_column = SQLModel.metadata.tables[table].columns.get("id")
                if id_column is not None and isinstance(id_column.type, Integer):
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'COALESCE(MAX(id), 0) + 1, false) FROM "{table}"'))


@pytest.fixture
def riverside(app: Flask, session: Session, demo_snapshot: str) -> Neighbourhood:
    """The demo INT (Riverside), loaded: 4 teams x 12 closed waves, sites, ratings, users."""
    if app.config["PULSE_PSEUDONYM_KEY"] == PSEUDONYM_KEY:
        _restore_snapshot(app, demo_snapshot)
    else:  # the snapshot's patient pseudonyms are keyed with the suite's usual key
        demo.load(session, now=utcnow(), instruments=app.extensions["pulse_instruments"],
                  pseudonym_key=app.config["PULSE_PSEUDONYM_KEY"],
                  totp_key=app.config["PULSE_TOTP_KEY"])
        session.commit()
    return session.exec(select(Neighbourhood).where(Neighbourhood.slug == demo.INT_SLUG)).one()
