"""Each phrase, map and field list the reports share is defined once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlmodel import SQLModel

from analysis import suppression
from survey_app.models import ITEM_TALLY_FIELDS
from survey_app.reporting import vocabulary

SOURCE = Path(__file__).resolve().parent.parent / "survey_app"


def _python_sources():
    return [p for p in SOURCE.rglob("*.py") if "migrations" not in p.parts]


def _string_literals(path: Path) -> set[str]:
    """Every string constant in the module but its docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings}


def test_each_hidden_reason_is_worded_in_the_vocabulary_alone():
    literals = {p.relative_to(SOURCE).as_posix(): _string_literals(p) for p in _python_sources()}
    for words in vocabulary.HIDDEN_REASON_WORDS.values():
        defined_in = [path for path, found in literals.items() if words in found]
        assert defined_in == ["reporting/vocabulary.py"], (words, defined_in)


def test_every_suppression_code_has_words():
    assert {suppression.TOO_FEW_ANSWERS, suppression.PROTECT_ANOTHER_GROUP} <= set(
        vocabulary.HIDDEN_REASON_WORDS)
    assert vocabulary.hidden_reason(None) is None
    assert vocabulary.hidden_reason(suppression.TOO_FEW_ANSWERS) == "too few answers"


def test_the_item_summary_table_has_exactly_the_tally_fields():
    columns = [c.name for c in SQLModel.metadata.tables["wave_item_summary"].columns]
    assert columns == ["wave_id", "item_id", *ITEM_TALLY_FIELDS]
    assert ITEM_TALLY_FIELDS[:2] == ("shown", "answered")


def test_the_tally_fields_are_listed_in_one_place():
    # No module but the model spells the tally fields out one after another.
    listing = re.compile(r"dont_know\b.{0,40}\bpositive\b.{0,40}\bnegative\b.{0,40}\bscored", re.S)
    listed_in = [p.relative_to(SOURCE).as_posix() for p in _python_sources()
                 if listing.search(p.read_text())]
    assert listed_in == ["models/reporting.py"]


def test_rating_labels_come_from_the_instrument_alone():
    # activation.toml words the four answers; no module spells them out again.
    for package in ("survey_app", "analysis"):
        for path in (SOURCE.parent / package).rglob("*.py"):
            literals = _string_literals(path)
            assert not {"Not very", "Excellent"} & literals, path
