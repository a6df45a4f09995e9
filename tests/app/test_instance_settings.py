"""Settings kept in the instance folder's pulse.env (issue 13): `make run` keeps the address
it serves there, so CLI commands run from another shell print links that open."""

from __future__ import annotations

import subprocess  # nosec B404  # runs make, with fixed arguments
from pathlib import Path

import pytest

from survey_app.core.config import load_settings, remember_setting
from survey_app.core.config_error import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_a_kept_base_url_is_used_without_the_environment(tmp_path: Path) -> None:
    remember_setting(str(tmp_path), "PULSE_BASE_URL", "http://127.0.0.1:5123")
    # Another shell: no PULSE_PORT, no PULSE_BASE_URL.
    assert load_settings(str(tmp_path), {})["PULSE_BASE_URL"] == "http://127.0.0.1:5123"


def test_the_environment_wins_over_the_kept_settings(tmp_path: Path) -> None:
    remember_setting(str(tmp_path), "PULSE_BASE_URL", "http://127.0.0.1:5123")
    remember_setting(str(tmp_path), "PULSE_SUPPRESSION_THRESHOLD", "7")
    settings = load_settings(str(tmp_path), {"PULSE_BASE_URL": "https://pulse.example"})
    assert settings["PULSE_BASE_URL"] == "https://pulse.example"
    assert settings["PULSE_SUPPRESSION_THRESHOLD"] == 7


def test_keeping_a_setting_again_replaces_it_and_keeps_the_other_lines(tmp_path: Path) -> None:
    (tmp_path / "pulse.env").write_text("# mine\nPULSE_FREE_TEXT_THRESHOLD = 12\n"
                                        "PULSE_BASE_URL=http://127.0.0.1:5000\n")
    remember_setting(str(tmp_path), "PULSE_BASE_URL", "http://127.0.0.1:5123")
    assert (tmp_path / "pulse.env").read_text() == (
        "# mine\nPULSE_FREE_TEXT_THRESHOLD = 12\nPULSE_BASE_URL=http://127.0.0.1:5123\n")
    settings = load_settings(str(tmp_path), {})
    assert (settings["PULSE_FREE_TEXT_THRESHOLD"], settings["PULSE_BASE_URL"]) == (
        12, "http://127.0.0.1:5123")


@pytest.mark.parametrize("line", ["PULSE_BASE_URL", "SECRET_KEY=x", "export PULSE_PORT=1"])
def test_a_line_that_is_not_a_setting_is_named(tmp_path: Path, line: str) -> None:
    (tmp_path / "pulse.env").write_text(f"# fine\n\n{line}\n")
    with pytest.raises(ConfigError, match=f"pulse.env, line 3: expected PULSE_NAME=value, "
                                          f"got '{line}'"):
        load_settings(str(tmp_path), {})


def test_make_run_keeps_the_address_it_serves() -> None:
    planned = subprocess.run(  # nosec B603 B607  # make, from the checkout, dry run
        ["make", "--dry-run", "--always-make", "run", "PULSE_PORT=5123"], cwd=ROOT,
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert "remember_setting(*sys.argv[1:])' instance PULSE_BASE_URL 'http://127.0.0.1:5123'" \
        in planned
    # It is kept before the demo prints its links.
    assert planned.index("remember_setting") < planned.index("demo load")
