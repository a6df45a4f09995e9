"""A closed wave is summarised once into per-item aggregates that reports read."""

from __future__ import annotations

from sqlmodel import select

from survey_app.core.clock import utcnow
from survey_app.models import Wave, WaveChoiceCount, WaveItemSummary, WaveSummary
from survey_app.pulse import waves

ANSWERS = [
    {"recommend_work": "extremely_likely", "recommend_care": "dont_know",
     "one_thing_better": "More time"},
    {"recommend_work": "likely", "recommend_care": "unlikely"},
    {"recommend_work": "unlikely"},
]


def test_closing_a_wave_summarises_it(client, session, open_wave, hidden_fields):
    wave = open_wave(size=5)
    for url, answers in zip(wave.urls, ANSWERS, strict=False):
        page = client.get(url)
        assert client.post(url, data={**hidden_fields(page.data), **answers}).status_code == 303
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()

    summary = session.get(WaveSummary, wave.wave_id)
    assert (summary.invited, summary.responded) == (5, 3)
    items = {row.item_id: row for row in session.exec(
        select(WaveItemSummary).where(WaveItemSummary.wave_id == wave.wave_id))}
    work = items["recommend_work"]
    # Scores 10 + 7.5 + 2.5 = 20 over 3; positive = extremely likely + likely.
    assert (work.shown, work.answered, work.positive, work.negative) == (3, 3, 2, 1)
    assert (work.scored, work.score_sum, work.score_sq_sum) == (3, 20.0, 162.5)
    care = items["recommend_care"]
    # "Don't know" counts as an answer for % recommend, but has no score.
    assert (care.answered, care.dont_know, care.negative, care.scored) == (2, 1, 1, 1)
    text = items["one_thing_better"]
    assert (text.shown, text.answered, text.text_length_sum) == (3, 1, len("More time"))
    assert sum(items[i].shown for i in items if i.startswith(("motivation", "involvement",
                                                              "advocacy", "local"))) == 9
    counts = {(c.item_id, c.choice): c.count for c in session.exec(select(WaveChoiceCount))}
    assert counts[("recommend_work", "likely")] == 1
    assert counts[("recommend_care", "dont_know")] == 1


def test_the_demo_s_closed_waves_are_summarised(app, session, riverside):
    summaries = session.exec(select(WaveSummary)).all()
    assert len(summaries) == 48
    assert all(0 < s.responded <= s.invited for s in summaries)


def test_db_upgrade_summarises_waves_closed_before_the_aggregates(client, session, open_wave,
                                                                 hidden_fields, runner):
    from sqlalchemy import delete

    wave = open_wave(size=5)
    for url, answers in zip(wave.urls, ANSWERS, strict=False):
        page = client.get(url)
        client.post(url, data={**hidden_fields(page.data), **answers})
    waves.close_wave(session, wave=session.get(Wave, wave.wave_id), now=utcnow())
    session.commit()
    expected = {row.item_id: (row.answered, row.positive, row.score_sum) for row in session.exec(
        select(WaveItemSummary).where(WaveItemSummary.wave_id == wave.wave_id))}
    # As a database closed before migration 0005 would be: answers, no aggregates.
    for table in (WaveChoiceCount, WaveItemSummary, WaveSummary):
        session.exec(delete(table))
    session.commit()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Summarised 1 closed waves" in result.output
    session.expire_all()
    assert session.get(WaveSummary, wave.wave_id).responded == 3
    assert {row.item_id: (row.answered, row.positive, row.score_sum) for row in session.exec(
        select(WaveItemSummary).where(WaveItemSummary.wave_id == wave.wave_id))} == expected
    again = runner.invoke(args=["db", "upgrade"])
    assert "Summarised" not in again.output
