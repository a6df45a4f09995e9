"""The instrument loader: good files load; every kind of mistake names file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from questionnaires import DIRECTORY, InstrumentError, load_all, load_file
from survey_app import create_app

TEAM_PULSE = DIRECTORY / "team_pulse.toml"


def test_the_team_pulse_loads_with_the_domain_items() -> None:
    pulse = load_all()["team-pulse"]
    assert [i.id for i in pulse.core_items] == ["recommend_work", "recommend_care"]
    assert len(pulse.pool_items) == 9
    assert pulse.rotating_per_pulse == 3
    work = pulse.item("recommend_work")
    assert work.text == ("How likely are you to recommend this team to friends and family "
                         "as a place to work?")
    assert work.values[-1] == "dont_know" and work.score("dont_know") is None
    assert work.positive == {"extremely_likely", "likely"}
    assert [work.score(v) for v in work.values[:5]] == [10.0, 7.5, 5.0, 2.5, 0.0]
    local = [i for i in pulse.pool_items if i.group == "local"]
    assert len(local) == 2 and not any(i.validated for i in local)
    free_text = pulse.optional_items[0]
    assert free_text.kind == "text" and "do not name anyone" in (free_text.hint or "")


def test_content_hash_changes_with_wording_only() -> None:
    first, second = load_file(TEAM_PULSE), load_file(TEAM_PULSE)
    assert first.content_hash() == second.content_hash()


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = TEAM_PULSE.read_text()
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, count))
    return path


@pytest.mark.parametrize("old, new, field, problem", [
    ('scale = "recommend"', 'scale = "recomend"', "items[0].scale", "unknown scale"),
    ('id = "recommend_care"', 'id = "recommend_work"', "items[1].id", "used twice"),
    ('role = "core"', 'role = "centre"', "items[0].role", "must be one of"),
    ('dont_know = true', 'dont_know = "yes"', "items[0].dont_know", "true or false"),
    ('positive = ["extremely_likely", "likely"]', 'positive = ["extremely_likely", "likley"]',
     "scales.recommend.positive", "likley"),
    ('score = 7.5 }', 'score = "high" }', "scales.recommend.options[1].score", "a number"),
    ('rotating_per_pulse = 3', 'rotating_per_pulse = 12', "rotating_per_pulse", "pool has 9"),
    ('key = "team-pulse"', 'key = "team-pulse"\ncolour = "blue"', "colour", "not a known field"),
    ('text = "I am enthusiastic about my job."', 'text = ""', "items[3].text", "non-empty"),
    ('audience = "staff"', 'audience = "everyone"', "audience", "must be one of"),
    ('{ value = "likely", label = "Likely", score = 7.5 },',
     '{ value = "likely", score = 7.5 },', "scales.recommend.options[1].label", "required"),
])
def test_each_mistake_is_reported_by_file_and_field(
    tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(InstrumentError) as caught:
        load_file(path)
    assert caught.value.source == "broken.toml"
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"broken.toml: {field}: ")


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'title = "Team pulse"', 'title = "Team pulse')
    with pytest.raises(InstrumentError, match=r"broken.toml: \(file\): not valid TOML"):
        load_file(path)


def test_two_files_with_one_key_are_refused(tmp_path: Path) -> None:
    shutil.copy(TEAM_PULSE, tmp_path / "a.toml")
    shutil.copy(TEAM_PULSE, tmp_path / "b.toml")
    with pytest.raises(InstrumentError, match="b.toml: key: 'team-pulse' is already used"):
        load_all(tmp_path)


def test_the_app_refuses_to_start_with_a_broken_instrument(tmp_path: Path) -> None:
    _broken(tmp_path, 'scale = "agree"', 'scale = "agreee"')
    with pytest.raises(InstrumentError, match=r"broken.toml: items\[5\].scale"):
        create_app({"TESTING": True, "SECRET_KEY": "x" * 40,
                    "PULSE_QUESTIONNAIRES": str(tmp_path)})
