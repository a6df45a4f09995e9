"""Reading a staff roster CSV, as an NHS Electronic Staff Record (ESR) style export gives it.

Nothing here touches the database: :func:`parse_roster` turns the file into
validated rows and a list of problems with their spreadsheet row numbers, and
the importer applies the rows only when there are no problems (all or nothing).

Columns
-------
The first row is the header. Names are matched ignoring case, surrounding
spaces and repeated inner spaces; other columns (ESR exports carry many) are
ignored. Every column below must be present, though most cells may be blank:
a file without, say, ``Leave Date`` would otherwise look like a file in which
nobody has left, and re-importing it would bring leavers back.

``Employee Number``
    The ESR employee or assignment number (e.g. ``20401234`` or
    ``20401234-2``): the stable identity of a person across imports. Required.
``Full Name``, or ``First Name`` and ``Last Name``
    Either form; ``Full Name`` wins when a row has both. Required.
``Work Email``
    Optional. Checked for shape (one ``@``, a dotted domain); the domain is
    lower-cased.
``Mobile``
    Optional. A UK mobile as ``07xxx xxxxxx``, ``+44 7xxx xxxxxx``,
    ``+44 (0)7xxx xxxxxx`` or ``0044 7xxx xxxxxx`` (spaces, dashes, dots and
    brackets ignored), or ``7xxx xxxxxx`` as a spreadsheet leaves it after
    dropping the leading zero. Stored as E.164, ``+447xxxxxxxxx``. Landlines,
    pagers (076, except 07624) and personal numbers (070) are refused.
``Team``
    The team's slug or its name (any case). Required; must be a known team.
``Staff Group``
    The profession or ESR staff group (e.g. ``Nursing and Midwifery
    Registered``). Required.
``Start Date``, ``Leave Date``
    Optional. ``DD/MM/YYYY`` (``D/M/YYYY`` too) or ``YYYY-MM-DD``. A blank
    leave date means the person has not left; a leave date before the start
    date is refused.

A person in two teams appears on two rows with the same employee number, and
the same name, email and mobile (a difference is reported, since one person
cannot have two). The same employee number twice for one team is a duplicate.

Row numbers count the header as row 1, so the first person is on row 2, as a
spreadsheet shows it. Blank lines are skipped but still counted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO

EMPLOYEE_NUMBER = "Employee Number"
FULL_NAME = "Full Name"
FIRST_NAME = "First Name"
LAST_NAME = "Last Name"
WORK_EMAIL = "Work Email"
MOBILE = "Mobile"
TEAM = "Team"
STAFF_GROUP = "Staff Group"
START_DATE = "Start Date"
LEAVE_DATE = "Leave Date"

ALWAYS_REQUIRED = (EMPLOYEE_NUMBER, WORK_EMAIL, MOBILE, TEAM, STAFF_GROUP, START_DATE,
                   LEAVE_DATE)
KNOWN_COLUMNS = (EMPLOYEE_NUMBER, FULL_NAME, FIRST_NAME, LAST_NAME, *ALWAYS_REQUIRED[1:])

# Limits of the columns the importer writes to (models.StaffMember).
MAX_NAME = 200
MAX_EMAIL = 254
MAX_PROFESSION = 100
MAX_EMPLOYEE_NUMBER = 30

# Pragmatic, not RFC 5322: it catches the typos people make in spreadsheets
# (missing @, spaces, no dot in the domain) without refusing real addresses.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_EMPLOYEE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]*$")
_PHONE_NOISE = re.compile(r"[\s\-.()]")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# Ofcom's 07 range: 071-075 and 077-079 are mobiles, 07624 is the Isle of Man's
# mobiles; 070 (personal numbering) and the rest of 076 (pagers) cannot take SMS.
_MOBILE_NSN = re.compile(r"^7(?:[1-57-9]\d{8}|624\d{6})$")

# Reports one problem with a row: (column, message).
_Problem = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One person in one team, valid and normalised."""

    employee_number: str
    name: str
    email: str | None
    mobile: str | None
    team_slug: str
    profession: str
    start_date: date | None
    leave_date: date | None
    row: int

    def is_current(self, on: date) -> bool:
        """Still a member on ``on``: not yet left (the leave date is the first day away),
        matching :func:`survey_app.pulse.teams.current_members`."""
        return self.leave_date is None or self.leave_date > on


@dataclass(frozen=True, slots=True)
class RosterRowError:
    """A problem for the person importing the file, at a spreadsheet row (header = 1).

    ``column`` is None for problems with the file or the row as a whole.
    """

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class RosterParse:
    """The valid rows and every problem found. Import only when ``errors`` is empty:
    rows with a problem are left out of ``rows``."""

    rows: tuple[RosterRow, ...]
    errors: tuple[RosterRowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_roster(
    source: str | bytes | IO[str] | IO[bytes], *, known_teams: Mapping[str, str]
) -> RosterParse:
    """Parse and validate a roster CSV (see the module docstring for the columns).

    Parameters
    ----------
    source
        The CSV as text or bytes, or an open text or binary file. Files are read
        line by line, so a large upload is never held whole in memory. Bytes are
        UTF-8, with or without the byte order mark Excel writes.
    known_teams
        Maps each team's slug, and its lower-cased name, to its slug.

    Returns
    -------
    RosterParse
        Valid rows, and the problems found, in file order. Nothing raises for a
        bad file: text that is not UTF-8, or is not CSV, is reported as a problem.
    """
    errors: list[RosterRowError] = []
    rows: list[RosterRow] = []
    records = _records(source)
    # The last row read, for problems found while reading the next. Text is decoded
    # ahead in chunks, so a decoding error is reported at or before its real row.
    row_number = 0
    try:
        header = next(records, None)
        row_number = 1
        if header is None:
            return RosterParse((), (RosterRowError(1, None, "The file is empty."),))
        columns, header_errors = _read_header(header)
        if header_errors:
            return RosterParse((), tuple(header_errors))
        checker = _RowChecker(columns, known_teams)
        for row_number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if any("\x00" in cell for cell in record):
                # No spreadsheet writes NUL; a database cannot store it.
                errors.append(RosterRowError(row_number, None,
                                             "This row contains a NUL character."))
                continue
            row, row_errors = checker.check(row_number, record)
            if row_errors:
                errors.extend(row_errors)
            elif row is not None:
                rows.append(row)
    except UnicodeDecodeError:
        errors.append(RosterRowError(
            row_number + 1, None,
            "The file is not UTF-8 text. Save it from your spreadsheet as "
            "'CSV UTF-8 (comma delimited)' and upload it again."))
    except csv.Error as error:
        errors.append(RosterRowError(row_number + 1, None,
                                     f"The file could not be read as CSV: {error}."))
    return RosterParse(tuple(rows), tuple(errors))


def normalise_uk_mobile(raw: str) -> str:
    """A UK mobile number in E.164 form (``+447700900123``).

    Raises
    ------
    ValueError
        With a message for the user: not a number, a landline, not a UK
        number, or the wrong length.
    """
    digits = _PHONE_NOISE.sub("", raw.strip())
    if digits.startswith("+44"):
        national = digits[3:]
    elif digits.startswith("0044"):
        national = digits[4:]
    elif digits.startswith("44") and len(digits) == 12:
        national = digits[2:]  # +44 lost to a spreadsheet number format
    elif digits.startswith("+") or digits.startswith("00"):
        raise ValueError(f"'{raw}' is not a UK number; only UK mobiles can be sent texts")
    else:
        national = digits
    # "+44 (0)7700 ..." keeps the trunk zero after the country code.
    if national.startswith("0"):
        national = national[1:]
    if not national.isdigit():
        raise ValueError(f"'{raw}' is not a phone number")
    if not national.startswith("7"):
        raise ValueError(f"'{raw}' is a landline or other non-mobile number; "
                         "texts go only to mobiles (07...)")
    if len(national) != 10:
        raise ValueError(f"'{raw}' has {len(national) + 1} digits; a UK mobile has 11, "
                         "like 07700 900123")
    if not _MOBILE_NSN.match(national):
        raise ValueError(f"'{raw}' is not a mobile range (070 and 076 numbers cannot "
                         "take texts)")
    return "+44" + national


def parse_roster_date(raw: str) -> date:
    """A date written ``DD/MM/YYYY`` (or ``D/M/YYYY``) or ``YYYY-MM-DD``.

    Raises
    ------
    ValueError
        If the text has neither form, or names a day that does not exist.
    """
    text = raw.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _UK_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"'{raw}' is not a date: write it as DD/MM/YYYY or YYYY-MM-DD")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{raw}' is not a real date") from None


def _records(source: str | bytes | IO[str] | IO[bytes]) -> Iterator[list[str]]:
    return csv.reader(_lines(source), strict=True)


def _lines(source: str | bytes | IO[str] | IO[bytes]) -> Iterable[str]:
    if isinstance(source, bytes):
        return io.StringIO(_decode_all(source), newline="")
    if isinstance(source, str):
        return io.StringIO(source.removeprefix("\ufeff"), newline="")
    # read(0) tells a binary file from a text one without consuming anything.
    if isinstance(source.read(0), bytes):
        binary: IO[bytes] = source  # type: ignore[assignment]
        return _strip_bom(_decoded_lines(binary))
    text: IO[str] = source  # type: ignore[assignment]
    return _strip_bom(text)


def _decode_all(data: bytes) -> str:
    return data.decode("utf-8-sig")


def _decoded_lines(stream: IO[bytes]) -> Iterator[str]:
    # TextIOWrapper decodes in chunks, never splitting a character, and with
    # newline="" hands csv the line endings it needs for quoted cells.
    wrapper = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from wrapper
    finally:
        # The caller opened the file, so the caller closes it.
        wrapper.detach()


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    yield first.removeprefix("\ufeff")
    yield from iterator


def _canonical(header_cell: str) -> str:
    return " ".join(header_cell.replace("\ufeff", "").split()).lower()


def _read_header(header: list[str]) -> tuple[dict[str, int], list[RosterRowError]]:
    """Map each known column to its index, or the problems with the header row."""
    wanted = {_canonical(name): name for name in KNOWN_COLUMNS}
    columns: dict[str, int] = {}
    errors: list[RosterRowError] = []
    for index, cell in enumerate(header):
        name = wanted.get(_canonical(cell))
        if name is None:
            continue
        if name in columns:
            errors.append(RosterRowError(1, name, f"The column '{name}' appears twice."))
        columns[name] = index
    missing = [name for name in ALWAYS_REQUIRED if name not in columns]
    if FULL_NAME not in columns and not (FIRST_NAME in columns and LAST_NAME in columns):
        missing.insert(1, f"{FULL_NAME} (or {FIRST_NAME} and {LAST_NAME})")
    if missing:
        errors.insert(0, RosterRowError(
            1, None, "The header row is missing these columns: " + ", ".join(missing) + "."))
    return columns, errors


class _RowChecker:
    """Validates rows in order, remembering what it needs to spot duplicates."""

    def __init__(self, columns: dict[str, int], known_teams: Mapping[str, str]) -> None:
        self._columns = columns
        self._known_teams = known_teams
        # employee number -> (first row, name, email, mobile): one person, one identity.
        self._people: dict[str, tuple[int, str, str | None, str | None]] = {}
        self._memberships: dict[tuple[str, str], int] = {}

    def _cell(self, record: list[str], column: str) -> str:
        index = self._columns.get(column)
        if index is None or index >= len(record):
            return ""
        return record[index].strip()

    def check(self, row: int, record: list[str]) -> tuple[RosterRow | None, list[RosterRowError]]:
        errors: list[RosterRowError] = []

        def problem(column: str, message: str) -> None:
            errors.append(RosterRowError(row, column, message))

        employee_number = self._cell(record, EMPLOYEE_NUMBER)
        if not employee_number:
            problem(EMPLOYEE_NUMBER, "The employee number is blank.")
        elif (len(employee_number) > MAX_EMPLOYEE_NUMBER
              or not _EMPLOYEE_NUMBER.match(employee_number)):
            problem(EMPLOYEE_NUMBER, f"'{employee_number}' is not an employee number "
                                     "(letters, digits and dashes, at most 30).")

        name = self._cell(record, FULL_NAME)
        if not name:
            name = " ".join(part for part in (self._cell(record, FIRST_NAME),
                                               self._cell(record, LAST_NAME)) if part)
        name = " ".join(name.split())
        name_column = FULL_NAME if FULL_NAME in self._columns else FIRST_NAME
        if not name:
            problem(name_column, "The name is blank.")
        elif len(name) > MAX_NAME:
            problem(name_column, f"The name is longer than {MAX_NAME} characters.")

        email: str | None = self._cell(record, WORK_EMAIL) or None
        if email is not None:
            if len(email) > MAX_EMAIL or not _EMAIL.match(email):
                problem(WORK_EMAIL, f"'{email}' is not an email address.")
            else:
                local, _, domain = email.rpartition("@")
                email = f"{local}@{domain.lower()}"

        mobile: str | None = self._cell(record, MOBILE) or None
        if mobile is not None:
            try:
                mobile = normalise_uk_mobile(mobile)
            except ValueError as error:
                problem(MOBILE, f"{error}.")

        team = self._cell(record, TEAM)
        team_slug = self._known_teams.get(team) or self._known_teams.get(
            " ".join(team.split()).lower())
        if not team:
            problem(TEAM, "The team is blank.")
        elif team_slug is None:
            known = ", ".join(sorted(set(self._known_teams.values())))
            problem(TEAM, f"There is no team '{team}'. Known teams: {known}.")

        profession = " ".join(self._cell(record, STAFF_GROUP).split())
        if not profession:
            problem(STAFF_GROUP, "The staff group is blank.")
        elif len(profession) > MAX_PROFESSION:
            problem(STAFF_GROUP, f"The staff group is longer than {MAX_PROFESSION} characters.")

        start_date = self._date(record, START_DATE, problem)
        leave_date = self._date(record, LEAVE_DATE, problem)
        if start_date and leave_date and leave_date < start_date:
            problem(LEAVE_DATE, f"The leave date {leave_date:%d/%m/%Y} is before the start "
                                f"date {start_date:%d/%m/%Y}.")

        if employee_number and name and team_slug and not errors:
            self._check_identity(row, employee_number, (name_column, name), email, mobile,
                                 team_slug, problem)
        if errors or team_slug is None:
            return None, errors
        return RosterRow(employee_number, name, email, mobile, team_slug, profession,
                         start_date, leave_date, row), errors

    def _date(self, record: list[str], column: str, problem: _Problem) -> date | None:
        raw = self._cell(record, column)
        if not raw:
            return None
        try:
            return parse_roster_date(raw)
        except ValueError as error:
            problem(column, f"{error}.")
            return None

    def _check_identity(self, row: int, employee_number: str, name: tuple[str, str],
                        email: str | None, mobile: str | None, team_slug: str,
                        problem: _Problem) -> None:
        name_column, name_value = name
        membership = (employee_number, team_slug)
        if membership in self._memberships:
            problem(EMPLOYEE_NUMBER, f"Employee {employee_number} is already in team "
                                     f"'{team_slug}' on row {self._memberships[membership]}.")
            return
        first = self._people.get(employee_number)
        if first is None:
            self._people[employee_number] = (row, name_value, email, mobile)
        else:
            first_row, first_name, first_email, first_mobile = first
            for column, here, there in ((name_column, name_value, first_name),
                                        (WORK_EMAIL, email, first_email),
                                        (MOBILE, mobile, first_mobile)):
                if here != there:
                    problem(column, f"Employee {employee_number} has a different "
                                    f"{column.lower()} on row {first_row}; one person "
                                    "must have the same details in every team.")
                    return
        self._memberships[membership] = row


