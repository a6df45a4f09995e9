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
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

from survey_app import create_app
from survey_app.db import get_engine, make_engine, upgrade
from survey_app.models import Neighbourhood, Site, StaffMember, Team, TeamMembership, User
from survey_app.services import accounts, demo, sites, waves
from survey_app.services.clock import utcnow

IN_CI = os.environ.get("CI", "").lower() == "true"
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"
PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Any test that builds the app touches the database: CI runs these again on PostgreSQL.
    for item in items:
        if "app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PULSE_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pulse-test.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        if IN_CI:
            pytest.fail(f"test database unreachable under CI: {error}")
        pytest.skip(f"test database unreachable: {error}")
    finally:
        engine.dispose()
    return url


def _test_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PULSE_BASE_URL": "http://pulse.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
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


@pytest.fixture
def app(migrated_database: str, tmp_path: Any, app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(_test_config(migrated_database, **app_config))
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
def make_user(session: Session) -> Callable[..., User]:
    """Create a user: ``make_user("recorder", sites=["RMP"])``; password is PASSWORD."""

    def factory(role: str, email: str | None = None, ints: tuple[str, ...] = (),
                sites: tuple[str, ...] = ()) -> User:
        user = accounts.create_user(session, email=email or f"{role}@example.test",
                                    password=PASSWORD, role=role, now=utcnow(),
                                    neighbourhood_slugs=ints, site_codes=sites)
        session.commit()
        return user

    return factory


@pytest.fixture
def login(hidden_fields: Callable[[bytes], dict[str, str]]) -> Callable[..., Any]:
    """Sign a test client in through the real login form; returns the response."""

    def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
        fields = hidden_fields(client.get("/login").data)
        return client.post("/login", data={**fields, "email": email, "password": password})

    return sign_in


@pytest.fixture
def riverside(app: Flask, session: Session) -> Neighbourhood:
    """The demo INT (Riverside), loaded: 4 teams x 12 closed waves, sites, ratings, users."""
    demo.load(session, now=utcnow(), instruments=app.extensions["pulse_instruments"],
              pseudonym_key=app.config["PULSE_PSEUDONYM_KEY"])
    session.commit()
    return session.exec(select(Neighbourhood).where(Neighbourhood.slug == demo.INT_SLUG)).one()
