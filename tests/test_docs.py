"""The information-governance documents stay true to the code they describe.

``docs/dpia.md`` must describe every table and column Pulse keeps, so a new table or
column that holds personal data cannot arrive without DPIA words; and every file and
test that ``docs/clinical-safety.md`` cites as a control must exist, so its hazard log
never claims a control that has gone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import survey_app.models  # noqa: F401  # registers every table on SQLModel.metadata

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DPIA = DOCS / "dpia.md"
CLINICAL_SAFETY = DOCS / "clinical-safety.md"
DATA_ITEMS = "## Data items, table by table"

# A cited file: `survey_app/...`, `tests/...::test_name`, `docs/...` and the like.
CITED = re.compile(r"`((?:survey_app|tests|analysis|docs|questionnaires|bench)/[^`\s]+)`")
TABLE_HEADING = re.compile(r"^### `([a-z_]+)`$", re.MULTILINE)
COLUMN_ROW = re.compile(r"^\| `([a-z_0-9]+)` \|", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    start = text.index(heading) + len(heading)
    following = re.search(r"^## ", text[start:], re.MULTILINE)
    return text[start:start + following.start()] if following else text[start:]


def _table_sections(text: str) -> dict[str, str]:
    """Each ``### `table``` subsection of the data items, by table name."""
    section = _section(text, DATA_ITEMS)
    headings = list(TABLE_HEADING.finditer(section))
    sections: dict[str, str] = {}
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        end = following.start() if following else len(section)
        name = heading.group(1)
        assert name not in sections, f"docs/dpia.md describes `{name}` twice"
        sections[name] = section[heading.end():end]
    return sections


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in path.read_text().splitlines()
            if line.startswith("#")}


def test_the_dpia_describes_every_table_and_each_of_its_columns() -> None:
    described = _table_sections(DPIA.read_text())
    tables = {table.name: {column.name for column in table.columns}
              for table in SQLModel.metadata.sorted_tables}
    assert sorted(set(tables) - set(described)) == [], "tables without DPIA words"
    assert sorted(set(described) - set(tables)) == [], "DPIA words for tables that are gone"
    for name, columns in tables.items():
        rows = COLUMN_ROW.findall(described[name])
        assert sorted(columns - set(rows)) == [], f"`{name}` columns without DPIA words"
        assert sorted(set(rows) - columns) == [], f"`{name}` rows for columns that are gone"
        assert len(rows) == len(set(rows)), f"`{name}` describes a column twice"


def test_every_column_row_says_all_the_dpia_asks() -> None:
    """Each row fills in its seven cells: what it holds, personal data, special category,
    who can see it, where it is stored and how long it is kept."""
    for name, section in _table_sections(DPIA.read_text()).items():
        for line in section.splitlines():
            if COLUMN_ROW.match(line):
                cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
                assert len(cells) == 7 and all(cells), f"`{name}`: {line}"


def _cited(path: Path) -> list[str]:
    return CITED.findall(path.read_text())


@pytest.mark.parametrize("document", [CLINICAL_SAFETY, DPIA], ids=lambda path: path.name)
def test_every_file_and_test_cited_exists(document: Path) -> None:
    cited = _cited(document)
    missing = []
    for reference in cited:
        file_part, *names = reference.split("::")
        path = ROOT / file_part
        if not path.is_file():
            missing.append(reference)
            continue
        source = path.read_text()
        for name in names:
            kind = "class" if name[:1].isupper() else "def"
            if not re.search(rf"^\s*{kind} {re.escape(name)}\b", source, re.MULTILINE):
                missing.append(reference)
    assert missing == []


def test_the_hazard_log_cites_code_and_tests_for_its_controls() -> None:
    """Not vacuous: each hazard names the code of its controls, and the log as a whole
    cites the tests that show them working."""
    text = CLINICAL_SAFETY.read_text()
    hazards = [line for line in text.splitlines() if re.match(r"^\| H\d+ \|", line)]
    assert len(hazards) >= 10
    for hazard in hazards:
        code = [ref for ref in CITED.findall(hazard)
                if ref.startswith(("survey_app/", "analysis/"))]
        assert code, hazard[:60]
    tests = {ref for ref in _cited(CLINICAL_SAFETY) if "::" in ref}
    assert len(tests) >= 20


@pytest.mark.parametrize("document", [CLINICAL_SAFETY, DPIA], ids=lambda path: path.name)
def test_every_link_leads_somewhere(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.is_file() or (anchor and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == []
