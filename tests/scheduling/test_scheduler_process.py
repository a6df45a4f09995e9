"""The scheduler process: in production it will not start without a real channel (the
development outbox printer would put every personal link and address on stdout)."""

from __future__ import annotations

from unittest import mock

from survey_app.scheduling import process
from tests.scheduling.conftest import at


def test_in_production_without_a_channel_the_scheduler_refuses_to_start(
        app, runner, make_team, schedule_for, monkeypatch, capfd):
    schedule_for(make_team(size=2))
    monkeypatch.setitem(app.config, "PULSE_ENV", "production")
    monkeypatch.setitem(app.config, "PULSE_SMTP", None)
    monkeypatch.setitem(app.config, "PULSE_NOTIFY", None)
    with mock.patch.object(process, "BlockingScheduler") as scheduler:
        result = runner.invoke(args=["scheduler", "run"])
    assert result.exit_code != 0
    assert "neither email (PULSE_SMTP_HOST) nor text messages (PULSE_NOTIFY_API_KEY)" in (
        result.output)
    scheduler.assert_not_called()
    assert "/p/" not in result.output and "@" not in result.output
    assert "/p/" not in capfd.readouterr().out


def test_in_production_a_tick_never_prints_links(app, make_team, schedule_for, monkeypatch,
                                                 capfd):
    schedule_for(make_team(size=2))
    monkeypatch.setitem(app.config, "PULSE_ENV", "production")
    monkeypatch.setitem(app.config, "PULSE_SMTP", None)
    monkeypatch.setitem(app.config, "PULSE_NOTIFY", None)
    process.run_tick(app, now=at("2026-09-01T09:00"))
    out = capfd.readouterr().out
    assert "[outbox]" not in out and "/p/" not in out


def test_in_production_with_a_channel_the_scheduler_starts(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "PULSE_ENV", "production")
    monkeypatch.setitem(app.config, "PULSE_NOTIFY", object())
    with mock.patch.object(process, "BlockingScheduler") as scheduler:
        result = runner.invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    scheduler.return_value.start.assert_called_once()


def test_in_development_the_scheduler_starts_and_prints_the_outbox(
        app, runner, make_team, schedule_for, monkeypatch, capfd):
    schedule_for(make_team(size=2))
    monkeypatch.setitem(app.config, "PULSE_ENV", "development")
    monkeypatch.setitem(app.config, "PULSE_SMTP", None)
    monkeypatch.setitem(app.config, "PULSE_NOTIFY", None)
    with mock.patch.object(process, "BlockingScheduler") as scheduler:
        result = runner.invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    scheduler.return_value.start.assert_called_once()
    process.run_tick(app, now=at("2026-09-01T09:00"))
    out = capfd.readouterr().out
    assert out.count("[outbox] invitation to ") == 2 and "/p/" in out
