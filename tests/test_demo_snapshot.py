"""The `riverside` fixture's snapshot is the demo INT itself, row for row."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from survey_app import demo
from survey_app.core.clock import utcnow
from survey_app.models import User, WaveSummary
from tests.conftest import _empty_tables


def _contents(session):
    counts = {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
              for table in SQLModel.metadata.sorted_tables}
    emails = sorted(session.execute(select(User.email)).scalars())
    summaries = sorted(session.execute(select(WaveSummary.invited, WaveSummary.responded)).all())
    return counts, emails, summaries


def test_the_snapshot_holds_what_demo_load_writes(app, session, riverside):
    restored = _contents(session)
    assert restored[0]["activation_rating"] > 1000 and len(restored[2]) == 48
    session.commit()
    session.expunge_all()  # the ids are reused once the tables are empty
    _empty_tables(app)
    demo.load(session, now=utcnow(), instruments=app.extensions["pulse_instruments"],
              pseudonym_key=app.config["PULSE_PSEUDONYM_KEY"],
              totp_key=app.config["PULSE_TOTP_KEY"])
    session.commit()
    assert _contents(session) == restored


def test_rows_added_after_a_restore_get_new_ids(session, riverside, make_site):
    # On PostgreSQL the id sequences must have moved past the copied rows.
    before = session.execute(text("SELECT MAX(id) FROM site")).scalar_one()
    assert make_site("NEW", int_slug=demo.INT_SLUG).id > before
