from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from survey_app import create_app
from survey_app.core.config import load_settings
from survey_app.core.config_error import ConfigError


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PULSE_SECRET_KEY"):
        load_settings(str(tmp_path), {"PULSE_ENV": "production"})


@pytest.mark.parametrize("weak", ["change-me", "dev", "short-but-not-default"])
def test_production_refuses_a_placeholder_or_short_secret(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigError):
        load_settings(str(tmp_path), {"PULSE_ENV": "production", "PULSE_SECRET_KEY": weak})


def test_production_accepts_a_real_secret_and_secures_cookies(tmp_path: Path) -> None:
    key = "k" * 48
    settings = load_settings(str(tmp_path), {"PULSE_ENV": "production", "PULSE_SECRET_KEY": key})
    assert settings["SECRET_KEY"] == key
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = load_settings(str(tmp_path), {})["SECRET_KEY"]
    second = load_settings(str(tmp_path), {})["SECRET_KEY"]
    assert first == second and len(first) >= 48
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(str(tmp_path), {
        "PULSE_DATABASE_URL": "postgresql+psycopg://db/pulse", "PULSE_PORT": "8080",
        "PULSE_SUPPRESSION_THRESHOLD": "7",
    })
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/pulse"
    assert settings["PULSE_BASE_URL"] == "http://127.0.0.1:8080"
    assert settings["PULSE_SUPPRESSION_THRESHOLD"] == 7


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    url = load_settings(str(tmp_path), {})["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{tmp_path / 'pulse.sqlite3'}"


@pytest.mark.parametrize("name, value", [("PULSE_PORT", "eighty"), ("PULSE_ENV", "staging")])
def test_bad_settings_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(str(tmp_path), {name: value})


def test_factory_takes_test_config(app: Flask) -> None:
    assert app.testing
    assert "team-pulse" in app.extensions["pulse_instruments"]


def test_healthz_reports_app_and_database(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "app": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "x" * 40,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    })
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_every_page_carries_security_headers(client) -> None:
    headers = client.get("/p").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP in development


def test_https_pages_ask_browsers_to_keep_to_https(client) -> None:
    secure = client.get("/p", base_url="https://pulse.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_an_unexpected_error_is_a_friendly_page_or_api_json(tmp_path: Path) -> None:
    app = create_app({"TESTING": False, "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e.db"})

    def boom() -> str:
        raise RuntimeError("something someone typed")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500 and b"there is a problem with the service" in page.data
    assert b"someone typed" not in page.data
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.json["error"] == "server_error"
    assert "someone typed" not in api.json["reason"]
