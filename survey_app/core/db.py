"""The database: one engine per app, one Session per request, Alembic migrations.

The engine lives in ``app.extensions``; :func:`get_session` hands each request
its own :class:`sqlmodel.Session` on ``g`` and the teardown closes it (rolling
back anything not committed). Services take that session and never commit;
views commit once, so a request is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from flask.cli import AppGroup
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: SQLite waits for locks, PostgreSQL pings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 5
    # hide_parameters: a database error must never write answers or pseudonyms
    # into a log.
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args,
                         hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL lets readers run beside the one writer; secure_delete overwrites
    # freed pages so rows rewritten at wave close leave no old copy behind.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def get_engine(app: Flask | None = None) -> Engine:
    app = app or current_app
    engine: Engine = app.extensions["pulse_engine"]
    return engine


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    session: Session = g.db_session
    return session


def close_session(_error: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def alembic_config(app: Flask) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", app.config["SQLALCHEMY_DATABASE_URI"])
    config.attributes["engine"] = get_engine(app)
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    command.upgrade(alembic_config(app), revision)


def downgrade(app: Flask, revision: str) -> None:
    command.downgrade(alembic_config(app), revision)


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


db_cli = AppGroup("db", help="Database migrations.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest), then fill the aggregates."""
    upgrade(current_app._get_current_object(), revision)  # type: ignore[attr-defined]
    click.echo(f"Database at {revision}.")
    if revision == "head":
        for step in current_app.extensions.get("pulse_after_upgrade", []):
            with Session(get_engine()) as session:
                said = step(session)
                session.commit()
            if said:
                click.echo(said)


def after_upgrade(app: Flask, step: Callable[[Session], str | None]) -> None:
    """Run ``step`` (in a session of its own, then committed) each time ``flask db upgrade``
    reaches the latest revision: a feature fills data its new tables need. ``step``
    returns a line to print, or None."""
    app.extensions.setdefault("pulse_after_upgrade", []).append(step)


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    downgrade(current_app._get_current_object(), revision)  # type: ignore[attr-defined]
    click.echo(f"Database at {revision}.")


def init_app(app: Flask) -> None:
    app.extensions["pulse_engine"] = make_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    app.teardown_appcontext(close_session)
    app.cli.add_command(db_cli)


__all__ = ["SQLModel", "get_session", "get_engine", "init_app", "upgrade", "downgrade", "ping"]
