"""Roster CSV parsing: every validation rule, row numbers, encodings and streaming."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from survey_app.scheduling.roster import (
    RosterRow,
    RosterRowError,
    normalise_uk_mobile,
    parse_roster,
    parse_roster_date,
)

SAMPLE = Path(__file__).resolve().parents[2] / "survey_app" / "static" / "roster-sample.csv"
HEADER = "Employee Number,Full Name,Work Email,Mobile,Team,Staff Group,Start Date,Leave Date"
TEAMS = {
    "district-nursing": "district-nursing", "district nursing": "district-nursing",
    "gp-practice": "gp-practice", "gp practice": "gp-practice",
    "social-care": "social-care", "social care": "social-care",
    "mental-health": "mental-health", "mental health": "mental-health",
}


@pytest.fixture
def good_row() -> str:
    return ("20401001,Ada Fernbrook,ada@riverside-int.example,07700 900101,district-nursing,"
            "Nursing,04/09/2017,")


def parse(*lines: str) -> tuple[tuple[RosterRow, ...], tuple[RosterRowError, ...]]:
    result = parse_roster("\n".join((HEADER, *lines)) + "\n", known_teams=TEAMS)
    return result.rows, result.errors


def where(errors: tuple[RosterRowError, ...]) -> list[tuple[int, str | None]]:
    return [(error.row, error.column) for error in errors]


def test_a_good_row_is_normalised(good_row: str) -> None:
    rows, errors = parse(good_row)
    assert errors == ()
    assert rows == (RosterRow("20401001", "Ada Fernbrook", "ada@riverside-int.example",
                              "+447700900101", "district-nursing", "Nursing",
                              date(2017, 9, 4), None, row=2),)


def test_the_sample_file_parses_cleanly() -> None:
    result = parse_roster(SAMPLE.read_bytes(), known_teams=TEAMS)
    assert result.errors == ()
    assert len(result.rows) == 11
    assert {row.team_slug for row in result.rows} == {
        "district-nursing", "gp-practice", "social-care", "mental-health"}
    leavers = [row for row in result.rows if not row.is_current(date(2026, 12, 1))]
    assert [row.employee_number for row in leavers] == ["20401003"]
    # One person in two teams: two rows, one identity.
    both = [row for row in result.rows if row.employee_number == "20401008"]
    assert [row.team_slug for row in both] == ["mental-health", "district-nursing"]
    # Every mobile is in Ofcom's drama range, every email at the example domain.
    for row in result.rows:
        assert row.mobile is None or row.mobile.startswith("+447700900")
        assert row.email is None or row.email.endswith("@riverside-int.example")


def test_header_is_case_and_space_insensitive_and_extra_columns_are_ignored() -> None:
    text = ("Assignment Status, employee  NUMBER ,first name,LAST NAME,work email,mobile,team,"
            "staff group,start date,leave date\n"
            "Active,20401002,Tobias,Quillfeather,,,District Nursing,Nursing,,\n")
    result = parse_roster(text, known_teams=TEAMS)
    assert result.errors == ()
    assert result.rows[0].name == "Tobias Quillfeather"
    assert result.rows[0].team_slug == "district-nursing"


def test_missing_header_columns_give_one_error_naming_them_all() -> None:
    result = parse_roster("Employee Number,Team,Work Email\n1,gp-practice,a@b.example\n",
                          known_teams=TEAMS)
    assert result.rows == ()
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.row, error.column) == (1, None)
    for name in ("Full Name (or First Name and Last Name)", "Mobile", "Staff Group",
                 "Start Date", "Leave Date"):
        assert name in error.message
    assert "Employee Number" not in error.message


def test_first_name_without_last_name_is_not_enough() -> None:
    header = HEADER.replace("Full Name", "First Name")
    result = parse_roster(header + "\n", known_teams=TEAMS)
    assert "Full Name (or First Name and Last Name)" in result.errors[0].message


def test_an_empty_file_is_reported() -> None:
    result = parse_roster("", known_teams=TEAMS)
    assert where(result.errors) == [(1, None)]
    assert "empty" in result.errors[0].message


@pytest.mark.parametrize(
    ("field", "value", "column", "words"),
    [
        (2, "ada.riverside-int.example", "Work Email", "not an email"),
        (2, "ada @riverside-int.example", "Work Email", "not an email"),
        (2, "ada@localhost", "Work Email", "not an email"),
        (3, "01632 960123", "Mobile", "landline"),
        (3, "020 7946 0123", "Mobile", "landline"),
        (3, "07700 90012", "Mobile", "has 10 digits"),
        (3, "07700 9001234", "Mobile", "has 12 digits"),
        (3, "+353 87 123 4567", "Mobile", "not a UK number"),
        (3, "07624 123456x", "Mobile", "not a phone number"),
        (3, "07011 123456", "Mobile", "070 and 076"),
        (3, "07600 123456", "Mobile", "070 and 076"),
        (4, "podiatry", "Team", "no team 'podiatry'"),
        (4, "", "Team", "blank"),
        (0, "", "Employee Number", "blank"),
        (0, "2040 1001", "Employee Number", "not an employee number"),
        (1, "", "Full Name", "blank"),
        (5, " ", "Staff Group", "blank"),
        (6, "31/02/2024", "Start Date", "not a real date"),
        (6, "2024-13-01", "Start Date", "not a real date"),
        (6, "04/09/17", "Start Date", "DD/MM/YYYY"),
        (6, "4 Sept 2017", "Start Date", "DD/MM/YYYY"),
        (7, "29/02/2023", "Leave Date", "not a real date"),
        (7, "03/09/2017", "Leave Date", "before the start date"),
    ],
)
def test_each_bad_cell_is_reported_at_its_row_and_column(
    good_row: str, field: int, value: str, column: str, words: str
) -> None:
    cells = good_row.split(",")
    cells[field] = value
    rows, errors = parse("1,Someone Else,,,gp-practice,Nursing,,", ",".join(cells))
    assert [row.row for row in rows] == [2]  # the good row is kept; the bad one is not
    assert where(errors) == [(3, column)]
    assert words in errors[0].message


def test_unknown_team_lists_the_known_ones(good_row: str) -> None:
    _, errors = parse(good_row.replace("district-nursing", "podiatry"))
    assert "district-nursing, gp-practice, mental-health, social-care" in errors[0].message


def test_every_problem_in_a_row_is_reported() -> None:
    _, errors = parse(",,not-an-email,01632 960123,nowhere,,31/02/2024,")
    assert where(errors) == [(2, "Employee Number"), (2, "Full Name"), (2, "Work Email"),
                             (2, "Mobile"), (2, "Team"), (2, "Staff Group"),
                             (2, "Start Date")]


@pytest.mark.parametrize(
    "raw",
    ["07700 900123", "07700900123", "07700-900-123", "+447700900123", "+44 7700 900123",
     "+44 (0)7700 900123", "0044 7700 900123", "(07700) 900123", "7700900123",
     "447700900123", " 07700.900.123 "],
)
def test_uk_mobiles_in_every_usual_form_normalise_to_e164(raw: str) -> None:
    assert normalise_uk_mobile(raw) == "+447700900123"


def test_isle_of_man_mobiles_are_accepted() -> None:
    assert normalise_uk_mobile("07624 123456") == "+447624123456"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("04/09/2017", date(2017, 9, 4)), ("4/9/2017", date(2017, 9, 4)),
     ("2017-09-04", date(2017, 9, 4)), ("29/02/2024", date(2024, 2, 29))],
)
def test_dates_are_read_day_first_or_iso(raw: str, expected: date) -> None:
    assert parse_roster_date(raw) == expected


def test_duplicate_person_in_one_team_names_the_first_row(good_row: str) -> None:
    rows, errors = parse(good_row, good_row.replace("district-nursing", "District Nursing"))
    assert [row.row for row in rows] == [2]
    assert where(errors) == [(3, "Employee Number")]
    assert "already in team 'district-nursing' on row 2" in errors[0].message


def test_one_person_in_two_teams_is_two_memberships(good_row: str) -> None:
    rows, errors = parse(good_row, good_row.replace("district-nursing", "mental-health"))
    assert errors == ()
    assert [(row.employee_number, row.team_slug) for row in rows] == [
        ("20401001", "district-nursing"), ("20401001", "mental-health")]


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [("Ada Fernbrook", "Ada Fernbrooke", "Full Name"),
     ("ada@", "ada.f@", "Work Email"),
     ("07700 900101", "07700 900199", "Mobile")],
)
def test_one_person_must_have_the_same_details_in_every_team(
    good_row: str, old: str, new: str, column: str
) -> None:
    other = good_row.replace("district-nursing", "mental-health").replace(old, new)
    _, errors = parse(good_row, other)
    assert where(errors) == [(3, column)]
    assert "on row 2" in errors[0].message


def test_same_details_compare_after_normalising(good_row: str) -> None:
    other = (good_row.replace("district-nursing", "mental-health")
             .replace("07700 900101", "+44 7700 900101")
             .replace("riverside-int.example", "RIVERSIDE-INT.EXAMPLE"))
    _, errors = parse(good_row, other)
    assert errors == ()


def test_row_numbers_count_the_header_and_blank_lines_like_a_spreadsheet(good_row: str) -> None:
    bad = good_row.replace("07700 900101", "01632 960123")
    _, errors = parse(good_row.replace("20401001", "1"), "", ",,,,,,,", bad)
    assert where(errors) == [(5, "Mobile")]


def test_quoted_cells_with_commas_and_line_breaks_count_as_one_row() -> None:
    rows, errors = parse(
        '1,"Fernbrook, Ada",,,district-nursing,"Nursing, registered",,',
        '2,"Quill\nfeather",,,gp-practice,Nursing,,',
        "3,Someone,,01632 960000,gp-practice,Nursing,,",
    )
    assert rows[0].name == "Fernbrook, Ada"
    assert rows[0].profession == "Nursing, registered"
    assert rows[1].name == "Quill feather"  # inner whitespace collapsed
    assert where(errors) == [(4, "Mobile")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
@pytest.mark.parametrize("kind", ["bytes", "binary file", "text", "text file"])
def test_utf8_with_or_without_bom_from_any_source(encoding: str, kind: str) -> None:
    text = f"{HEADER}\r\n1,Siân Ó Briain,,,social-care,Social Care,,\r\n"
    data = text.encode(encoding)
    source: object = {
        "bytes": data,
        "binary file": io.BytesIO(data),
        "text": data.decode("utf-8"),  # keeps a BOM, as reading without -sig would
        "text file": io.StringIO(data.decode("utf-8"), newline=""),
    }[kind]
    result = parse_roster(source, known_teams=TEAMS)  # type: ignore[arg-type]
    assert result.errors == ()
    assert result.rows[0].name == "Siân Ó Briain"
    assert result.rows[0].employee_number == "1"


def test_windows_1252_is_refused_with_advice() -> None:
    data = f"{HEADER}\n1,Siân,,,social-care,Social Care,,\n".encode("cp1252")
    result = parse_roster(io.BytesIO(data), known_teams=TEAMS)
    assert result.rows == ()
    # One file-wide problem (decoding reads ahead, so its row is approximate).
    assert len(result.errors) == 1 and result.errors[0].column is None
    assert "CSV UTF-8" in result.errors[0].message


def test_a_header_that_is_not_utf8_is_reported_on_row_1() -> None:
    result = parse_roster(io.BytesIO(HEADER.replace("Name", "Nám").encode("cp1252")),
                          known_teams=TEAMS)
    assert where(result.errors) == [(1, None)]
    assert "not UTF-8" in result.errors[0].message


def test_a_binary_file_is_read_in_chunks_and_left_open() -> None:
    lines = [HEADER] + [
        f"{20400000 + n},Person {n},p{n}@riverside-int.example,07700 9{n % 1000:05d},"
        f"district-nursing,Nursing,01/04/2020," for n in range(10_000)
    ]
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()

    class CountingReader(io.BytesIO):
        largest_read = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            CountingReader.largest_read = max(CountingReader.largest_read, len(chunk))
            return chunk

        def read1(self, size: int | None = -1) -> bytes:
            chunk = super().read1(size)
            CountingReader.largest_read = max(CountingReader.largest_read, len(chunk))
            return chunk

    stream = CountingReader(data)
    result = parse_roster(stream, known_teams=TEAMS)
    assert result.errors == ()
    assert len(result.rows) == 10_000
    assert result.rows[-1].row == 10_001
    assert CountingReader.largest_read < len(data) // 4  # never slurped whole
    assert not stream.closed  # the caller opened it, the caller closes it
