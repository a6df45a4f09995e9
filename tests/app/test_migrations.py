"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from survey_app.core.db import downgrade, get_engine, upgrade
from survey_app.models import SQLModel


def _schema_differences(app: Flask) -> list[object]:
    with get_engine(app).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrated_schema_matches_the_models(app: Flask) -> None:
    assert _schema_differences(app) == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(app: Flask) -> None:
    engine = get_engine(app)
    downgrade(app, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(app)
    tables = set(inspect(engine).get_table_names())
    assert {"invitation", "response", "item_answer", "wave"} <= tables
    assert _schema_differences(app) == []


def test_db_upgrade_command_is_idempotent(runner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database at head" in result.output
