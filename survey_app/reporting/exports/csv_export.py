"""CSV downloads of the tables Pulse shows: RFC 4180, safe to open in a spreadsheet.

Output is RFC 4180: comma separated, CRLF line endings, fields holding a comma,
a double quote, CR or LF wrapped in double quotes with inner quotes doubled.
It is plain text with no byte-order mark; the view encodes it as UTF-8 and says
so in ``Content-Type: text/csv; charset=utf-8``.

Formula injection (OWASP "CSV Injection"): a spreadsheet treats a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula,
so a team or site name such as ``=HYPERLINK(...)`` could run when a lead opens
the download. Every *text* cell starting with one of those characters is
prefixed with a single quote, OWASP's recommended neutralisation: spreadsheets
then show the text as typed (Excel hides the quote; other readers show it,
which is the visible price of safety). Numbers (``int``, ``float``,
``Decimal``, numpy scalars: anything registered as :class:`numbers.Number`) are
written as numbers and never prefixed, so ``-1.5`` stays a negative number a
spreadsheet can sum; the string ``"-1"`` is text and is prefixed.

Suppressed results: a cell hidden by small-number suppression is a
:class:`SuppressedCell`, which holds only the reason, never the value.
:func:`table_with_reasons` blanks it and says why in one ``"Hidden because"``
column at the end of the row, so a reader can tell "hidden" from "nobody
answered". One column per row, not one beside each figure: a row is usually
hidden whole, for one reason, and a column per figure doubled the width of a
file without saying more.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from analysis import suppression
from survey_app.reporting.vocabulary import (
    HIDDEN_REASON_WORDS,
    PROTECT_ANOTHER_GROUP,
    TOO_FEW_ANSWERS,
)

# The suppression codes a cell can carry, worded by the one vocabulary.
_REASON_FOR_CODE = {code: HIDDEN_REASON_WORDS[code]
                    for code in (suppression.TOO_FEW_ANSWERS, suppression.PROTECT_ANOTHER_GROUP)}

__all__ = [
    "FORMULA_TRIGGERS",
    "PROTECT_ANOTHER_GROUP",
    "REASON_COLUMN",
    "TOO_FEW_ANSWERS",
    "SuppressedCell",
    "csv_response_body",
    "iter_csv",
    "neutralise",
    "table_with_reasons",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


#: The last column of a table with hideable figures: why the row's blanks are blank.
REASON_COLUMN = "Hidden because"


@dataclass(frozen=True, slots=True)
class SuppressedCell:
    """A result that must not be shown; it carries the reason and never the value.

    Raises
    ------
    ValueError
        If `reason` is empty.
    """

    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("reason must say why the cell is hidden")

    @classmethod
    def for_code(cls, code: str) -> SuppressedCell:
        """The cell for a reason code of :mod:`analysis.suppression`.

        Raises
        ------
        ValueError
            If `code` is not one of that module's reason codes.
        """
        try:
            return cls(_REASON_FOR_CODE[code])
        except KeyError:
            raise ValueError(f"code {code!r} is not a suppression reason code") from None


def neutralise(text: str) -> str:
    """`text`, prefixed with ``'`` if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _cell_text(value: object) -> str:
    if value is None or isinstance(value, SuppressedCell):
        # A suppressed cell has no value to write; its reason belongs in the
        # "Hidden because" column that table_with_reasons adds.
        return ""
    if isinstance(value, numbers.Number):
        return str(value)
    return neutralise(str(value))


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text line by line (header first), for a streamed response.

    ``None`` and :class:`SuppressedCell` are written as empty cells; numbers as
    numbers; anything else as its text, neutralised against formula injection.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in _chain_header(header, rows):
        writer.writerow([_cell_text(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _chain_header(
    header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Iterator[Sequence[object]]:
    yield header
    yield from rows


def csv_response_body(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The whole CSV as one string; see :func:`iter_csv` for how cells are written."""
    return "".join(iter_csv(header, rows))


def table_with_reasons(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    hideable: Collection[str] | None = None,
) -> tuple[list[str], list[list[object]]]:
    """Header and rows with hidden cells blanked and one ``"Hidden because"`` column last.

    A :class:`SuppressedCell` becomes an empty value. The row's last column is
    empty when nothing in it is hidden; the reason alone when every hideable
    figure of the row is hidden for it (the usual case: a group too small to
    show); otherwise each reason followed by the columns it hides, e.g.
    ``"too few answers: % recommend for care, Care 95% CI lower %"``.

    Parameters
    ----------
    columns : sequence of str
        Column names, in order.
    rows : iterable of sequences
        One value per column; hidden values are :class:`SuppressedCell`.
    hideable : collection of str, optional
        Columns that may be hidden. Pass it so the download has the same columns
        whatever the data; by default every column that holds a
        :class:`SuppressedCell` in some row. No column may be hidden: no
        ``"Hidden because"`` column is added.

    Raises
    ------
    ValueError
        If `hideable` names an unknown column, a row has the wrong length, or a
        :class:`SuppressedCell` sits in a column not in `hideable` (its reason
        would otherwise be lost).
    """
    table = [list(row) for row in rows]
    for number, row in enumerate(table, start=1):
        if len(row) != len(columns):
            raise ValueError(
                f"rows: row {number} has {len(row)} values for {len(columns)} columns"
            )
    if hideable is None:
        hidden_somewhere = {
            index for row in table for index, value in enumerate(row)
            if isinstance(value, SuppressedCell)
        }
        hideable = [name for index, name in enumerate(columns) if index in hidden_somewhere]
    unknown = sorted(set(hideable) - set(columns))
    if unknown:
        raise ValueError(f"hideable: unknown column(s) {', '.join(unknown)}")
    if not hideable:
        return list(columns), table
    may_hide = {name for name in columns if name in hideable}
    out: list[list[object]] = []
    for number, row in enumerate(table, start=1):
        hidden_by: dict[str, list[str]] = {}
        for name, value in zip(columns, row, strict=True):
            if isinstance(value, SuppressedCell):
                if name not in may_hide:
                    raise ValueError(
                        f"hideable: row {number} hides column {name!r}, which is not hideable"
                    )
                hidden_by.setdefault(value.reason, []).append(name)
        out.append([None if isinstance(value, SuppressedCell) else value for value in row]
                   + [_reason_text(hidden_by, len(may_hide))])
    return [*columns, REASON_COLUMN], out


def _reason_text(hidden_by: dict[str, list[str]], hideable_count: int) -> str | None:
    """The "Hidden because" cell of a row: reason -> the columns it hides, in words."""
    if not hidden_by:
        return None
    if len(hidden_by) == 1:
        [(reason, names)] = hidden_by.items()
        if len(names) == hideable_count:  # the whole row, for one reason: the reason says it
            return reason
    return "; ".join(f"{why}: {', '.join(names)}" for why, names in hidden_by.items())
