"""Alembic environment: runs against the app's engine, or a URL given to Alembic."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import survey_app.models  # noqa: F401  (registers every table on the metadata)
from survey_app.core.db import SQLModel, make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place; batch mode copies the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `db upgrade`.")
run_migrations()
