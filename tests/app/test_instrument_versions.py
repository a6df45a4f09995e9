"""A changed wording is a new version; waves keep the version their answers were given to."""

from __future__ import annotations

import dataclasses

from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.core.instruments import ensure_version, instrument_of
from survey_app.models import QuestionnaireVersion, Wave
from survey_app.pulse import waves

NEW_WORDING = "How likely are you to recommend this neighbourhood team as a place to work?"


def _reworded(instrument):
    items = tuple(
        dataclasses.replace(item, text=NEW_WORDING) if item.id == "recommend_work" else item
        for item in instrument.items
    )
    return dataclasses.replace(instrument, items=items)


def test_same_wording_is_one_version_and_new_wording_the_next(app, session):
    original = app.extensions["pulse_instruments"]["team-pulse"]
    first = ensure_version(session, instrument=original)
    assert ensure_version(session, instrument=original).id == first.id
    second = ensure_version(session, instrument=_reworded(original))
    session.commit()
    assert (first.version, second.version) == (1, 2)
    assert instrument_of(second).item("recommend_work").text == NEW_WORDING
    assert instrument_of(first).item("recommend_work").text != NEW_WORDING


def test_an_open_wave_keeps_its_wording_after_the_instrument_changes(app, client, session,
                                                                      make_team, open_wave):
    wave = open_wave(slug="district-nursing")
    original = app.extensions["pulse_instruments"]["team-pulse"]
    app.extensions["pulse_instruments"]["team-pulse"] = _reworded(original)
    new_team = make_team(slug="social-care")
    newer = waves.open_wave(session, team=new_team, now=utcnow(), days=7,
                            instrument=app.extensions["pulse_instruments"]["team-pulse"])
    session.commit()
    versions = session.exec(select(QuestionnaireVersion)).all()
    assert len(versions) == 2
    old_wave = session.get(Wave, wave.wave_id)
    assert old_wave.questionnaire_version_id != newer.wave.questionnaire_version_id
    old_page = client.get(wave.urls[0]).data.decode()
    assert "as a place to work?" in old_page and NEW_WORDING not in old_page
    new_page = client.get(f"/p/{newer.links[0].token}").data.decode()
    assert NEW_WORDING in new_page
