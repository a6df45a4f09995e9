"""CSV downloads: RFC 4180 text, formula injection neutralised, hidden cells explained."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import numpy as np
import pytest

from analysis import suppression
from survey_app.reporting.exports.csv_export import (
    PROTECT_ANOTHER_GROUP,
    TOO_FEW_ANSWERS,
    SuppressedCell,
    csv_response_body,
    iter_csv,
    neutralise,
    table_with_reasons,
)


def parse(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


@pytest.mark.parametrize("text, written", [
    ("=SUM(A1)", "'=SUM(A1)"),
    ("+1", "'+1"),
    ("-1", "'-1"),
    ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ('=HYPERLINK("http://example.com","x")', '\'=HYPERLINK("http://example.com","x")'),
    ("Riverside Practice", "Riverside Practice"),
    ("a=b", "a=b"),
    ("'quoted already", "'quoted already"),
    ("", ""),
])
def test_text_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(text, written):
    assert neutralise(text) == written
    assert parse(csv_response_body(["name"], [[text]])) == [["name"], [written]]


@pytest.mark.parametrize("number, written", [
    (-1, "-1"),
    (-2.5, "-2.5"),
    (0, "0"),
    (42, "42"),
    (Decimal("-0.125"), "-0.125"),
    (np.int64(-3), "-3"),
    (np.float64(-0.5), "-0.5"),
])
def test_numbers_are_written_as_numbers_even_when_negative(number, written):
    assert csv_response_body(["change"], [[number]]) == f"change\r\n{written}\r\n"


def test_the_header_is_neutralised_too():
    assert parse(csv_response_body(["=cmd", "ok"], []))[0] == ["'=cmd", "ok"]


def test_commas_quotes_and_line_breaks_are_quoted_per_rfc_4180():
    body = csv_response_body(
        ["team", "note"],
        [["Smith, Jones & Co", 'said "hello"'], ["two\nlines", "cr\r\nlf"]],
    )
    assert body == (
        'team,note\r\n'
        '"Smith, Jones & Co","said ""hello"""\r\n'
        '"two\nlines","cr\r\nlf"\r\n'
    )
    assert parse(body) == [
        ["team", "note"],
        ["Smith, Jones & Co", 'said "hello"'],
        ["two\nlines", "cr\r\nlf"],
    ]


def test_output_has_no_byte_order_mark_and_keeps_unicode():
    body = csv_response_body(["site"], [["Ysbyty Gwynedd – Bangor"], ["Café ☕"]])
    assert not body.startswith("\ufeff")
    assert parse(body)[1:] == [["Ysbyty Gwynedd – Bangor"], ["Café ☕"]]


def test_none_and_suppressed_cells_are_empty():
    body = csv_response_body(["a", "b", "c"], [[None, SuppressedCell(TOO_FEW_ANSWERS), 3]])
    assert body == "a,b,c\r\n,,3\r\n"


def test_iter_csv_streams_one_line_per_row():
    lines = list(iter_csv(["a"], ([i] for i in range(3))))
    assert lines == ["a\r\n", "0\r\n", "1\r\n", "2\r\n"]


def test_a_hidden_row_is_blank_in_every_figure_with_one_reason_at_the_end():
    header, rows = table_with_reasons(
        ["team", "answers", "% recommend", "CI lower", "CI upper", "open pulse"],
        [
            ["District nurses", 12, 75.0, 50.5, 89.1, None],
            ["Pharmacy", *[SuppressedCell(TOO_FEW_ANSWERS)] * 4, "2 of 6 answered so far"],
            ["Social care", *[SuppressedCell(PROTECT_ANOTHER_GROUP)] * 4, None],
        ],
        hideable=["answers", "% recommend", "CI lower", "CI upper"],
    )
    assert header == ["team", "answers", "% recommend", "CI lower", "CI upper", "open pulse",
                      "Hidden because"]
    assert parse(csv_response_body(header, rows)) == [
        header,
        ["District nurses", "12", "75.0", "50.5", "89.1", "", ""],
        ["Pharmacy", "", "", "", "", "2 of 6 answered so far", "too few answers"],
        ["Social care", "", "", "", "", "", "hidden to protect another group"],
    ]


def test_a_partly_hidden_row_names_the_columns_each_reason_hides():
    header, rows = table_with_reasons(
        ["team", "answers", "% work", "% care"],
        [["A", 9, 70.0, SuppressedCell(TOO_FEW_ANSWERS)],
         ["B", SuppressedCell(PROTECT_ANOTHER_GROUP), SuppressedCell(TOO_FEW_ANSWERS),
          SuppressedCell(TOO_FEW_ANSWERS)]],
        hideable=["answers", "% work", "% care"],
    )
    assert rows == [
        ["A", 9, 70.0, None, "too few answers: % care"],
        ["B", None, None, None,
         "hidden to protect another group: answers; too few answers: % work, % care"],
    ]


def test_hideable_columns_keep_their_reason_column_when_nothing_is_hidden():
    header, rows = table_with_reasons(["team", "answers"], [["A", 9]], hideable=["answers"])
    assert header == ["team", "answers", "Hidden because"]
    assert rows == [["A", 9, None]]


def test_by_default_a_table_holding_a_hidden_cell_gets_the_reason_column():
    header, rows = table_with_reasons(
        ["team", "answers", "score"],
        [["A", 9, SuppressedCell(TOO_FEW_ANSWERS)], ["B", 7, 6.5]],
    )
    assert header == ["team", "answers", "score", "Hidden because"]
    assert rows == [["A", 9, None, "too few answers"], ["B", 7, 6.5, None]]
    assert table_with_reasons(["team"], [["A"]]) == (["team"], [["A"]])


def test_a_hidden_cell_outside_the_hideable_columns_is_refused():
    with pytest.raises(ValueError, match="hideable: row 1 hides column 'team'"):
        table_with_reasons(["team", "answers"], [[SuppressedCell(TOO_FEW_ANSWERS), 3]],
                           hideable=["answers"])


@pytest.mark.parametrize("columns, rows, hideable, message", [
    (["a", "b"], [[1]], None, "row 1 has 1 values for 2 columns"),
    (["a"], [[1]], ["z"], "unknown column"),
])
def test_malformed_tables_are_refused(columns, rows, hideable, message):
    with pytest.raises(ValueError, match=message):
        table_with_reasons(columns, rows, hideable=hideable)


def test_suppression_reason_codes_map_to_the_csv_wording():
    assert SuppressedCell.for_code(suppression.TOO_FEW_ANSWERS).reason == "too few answers"
    assert (SuppressedCell.for_code(suppression.PROTECT_ANOTHER_GROUP).reason
            == "hidden to protect another group")
    with pytest.raises(ValueError, match="not a suppression reason code"):
        SuppressedCell.for_code("bored")
    with pytest.raises(ValueError, match="reason"):
        SuppressedCell("  ")


def test_a_suppression_result_exports_without_its_hidden_counts():
    counts = [12, 3, 8]  # 3 is too few; one more is hidden so 3 = total - visible fails
    result = suppression.suppress_small_groups(counts, threshold=5)
    names = ["Nurses", "Pharmacy", "GPs"]
    table = [
        [name, SuppressedCell.for_code(result.reason[i]) if result.hidden[i] else counts[i]]
        for i, name in enumerate(names)
    ]
    header, rows = table_with_reasons(["team", "answers"], table, hideable=["answers"])
    parsed = parse(csv_response_body(header, rows))
    assert parsed[2] == ["Pharmacy", "", "too few answers"]
    assert sum(1 for row in parsed[1:] if row[1] == "") >= 2
    assert "3" not in [row[1] for row in parsed[1:]]


def test_round_trip_through_csv_reader_gives_back_the_text_and_numbers():
    rows = [
        ["North, INT", 10, -0.5, "ok"],
        ['He said "=1"', 0, 3.25, "multi\nline"],
        ["=cmd|' /C calc'!A0", 7, -7, "@SUM(1)"],
    ]
    parsed = parse(csv_response_body(["name", "n", "change", "note"], rows))
    assert parsed[1:] == [
        ["North, INT", "10", "-0.5", "ok"],
        ['He said "=1"', "0", "3.25", "multi\nline"],
        ["'=cmd|' /C calc'!A0", "7", "-7", "'@SUM(1)"],
    ]
