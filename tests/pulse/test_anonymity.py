"""Try to link people to their answers with everything Pulse stores, and fail.

Everyone answers in the order of their invitation ids (the worst case: the
order people answer in is known to the attacker). Before the wave closes, the
row order of responses still follows that order (the control below shows the
attack has the power to succeed); after the close, every attack must do no
better than chance.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine
from survey_app.models import Invitation, Wave
from survey_app.pulse import waves

TEAM_SIZE = 30
# Chance pairs about 1 of 30 correctly; 7 or more happens by chance with
# probability below 1e-4, and a real leak pairs (nearly) all 30.
CHANCE_BOUND = 6


@pytest.fixture
def answered_wave(app, client, session, open_wave, hidden_fields, caplog):
    """A wave where each person answers in invitation-id order with a unique marker."""
    caplog.set_level(logging.INFO)
    wave = open_wave(size=TEAM_SIZE)
    invitations = session.exec(
        select(Invitation).where(Invitation.wave_id == wave.wave_id).order_by(Invitation.id)
    ).all()
    truth = {}  # invitation id -> marker written in that person's free text
    for invitation in invitations:
        url = wave.url(invitation.staff_member_id)
        fields = hidden_fields(client.get(url).data)
        marker = f"marker-{invitation.id}"
        result = client.post(url, data={**fields, "recommend_work": "likely",
                                        "one_thing_better": marker})
        assert result.status_code == 303
        truth[invitation.id] = marker
    return wave, truth


def _markers_in(connection, order_by: str) -> list[str]:
    rows = connection.execute(text(
        "SELECT a.text FROM response r JOIN item_answer a ON a.response_id = r.id "
        f"WHERE a.item_id = 'one_thing_better' ORDER BY {order_by}"
    ))
    return [row[0] for row in rows]


def _physical_response_order(connection) -> list[str]:
    # Row order as stored: SQLite's rowid, PostgreSQL's physical tuple position.
    position = "r.rowid" if connection.dialect.name == "sqlite" else "r.ctid"
    return _markers_in(connection, position)


def _used_invitations(connection, order_by: str) -> list[int]:
    rows = connection.execute(text(
        f"SELECT id FROM invitation WHERE used = true ORDER BY {order_by}"))
    return [row[0] for row in rows]


def _correct_pairs(invitation_ids: list[int], markers: list[str], truth: dict[int, str]) -> int:
    return sum(truth[i] == m for i, m in zip(invitation_ids, markers, strict=True))


def test_storage_order_links_people_before_close_but_not_after(app, session, answered_wave):
    wave, truth = answered_wave
    engine = get_engine(app)
    physical_invitation = "rowid" if engine.dialect.name == "sqlite" else "ctid"
    with engine.connect() as connection:
        control = _correct_pairs(_used_invitations(connection, "id"),
                                 _physical_response_order(connection), truth)
    assert control == TEAM_SIZE  # the attack works while rows keep their order

    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()

    with engine.connect() as connection:
        by_id = _used_invitations(connection, "id")
        by_position = _used_invitations(connection, physical_invitation)
        attacks = {
            "invitation id ~ response position": (by_id, _physical_response_order(connection)),
            "invitation position ~ response position": (
                by_position, _physical_response_order(connection)),
            "invitation id ~ response key": (by_id, _markers_in(connection, "r.id")),
            "invitation position ~ answer position": (
                by_position, _markers_in(connection, "a.ctid" if physical_invitation == "ctid"
                                         else "a.rowid")),
        }
        for name, (invitation_ids, markers) in attacks.items():
            assert _correct_pairs(invitation_ids, markers, truth) <= CHANCE_BOUND, name


def test_postgresql_transaction_ids_do_not_link_after_close(app, session, answered_wave):
    engine = get_engine(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("transaction ids on rows are a PostgreSQL detail")
    wave, truth = answered_wave
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    with engine.connect() as connection:
        invitation_xmins = {row[0] for row in connection.execute(
            text("SELECT xmin::text FROM invitation WHERE used = true"))}
        response_xmins = {row[0] for row in connection.execute(
            text("SELECT xmin::text FROM response"))}
    # Rewritten together at close: one transaction id for every row.
    assert len(invitation_xmins) == 1 and len(response_xmins) == 1


def test_responses_carry_no_time_and_invitations_no_time_of_use(app):
    inspector = inspect(get_engine(app))
    columns = {table: {c["name"] for c in inspector.get_columns(table)}
               for table in ("response", "item_answer", "invitation")}
    assert columns["response"] == {"id", "wave_id", "items_shown", "completion_seconds"}
    assert columns["item_answer"] == {"response_id", "item_id", "choice", "text"}
    assert columns["invitation"] == {"id", "wave_id", "staff_member_id", "token_hash",
                                     "code_hash", "reminder_token_hash", "used"}


def test_request_logs_never_contain_a_token(answered_wave, caplog):
    wave, _ = answered_wave
    # The answers were posted while setting up the fixture.
    logged = "\n".join(record.getMessage() for record in caplog.get_records("setup"))
    assert "POST /p/[link] 303" in logged
    assert not any(token in logged for token in wave.tokens.values())


def test_the_werkzeug_request_line_is_masked_too():
    from survey_app.core.logs import MaskSecretsFilter

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '%s - - "%s" %s', ("127.0.0.1", "GET /p/SeCrEtToKeN HTTP/1.1",
                                                  "200"), None)
    MaskSecretsFilter().filter(record)
    assert "SeCrEtToKeN" not in record.getMessage()
    assert "/p/[link]" in record.getMessage()


def test_gunicorns_access_log_atoms_are_masked_too():
    from survey_app.core.logs import MaskSecretsFilter

    atoms = {"h": "127.0.0.1", "r": "GET /p/SeCrEtToKeN HTTP/1.1", "U": "/p/SeCrEtToKeN",
             "s": "200"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                               '%(h)s "%(r)s" %(s)s %(U)s', (atoms,), None)
    MaskSecretsFilter().filter(record)
    line = record.getMessage()
    assert "SeCrEtToKeN" not in line and line.count("/p/[link]") == 2
