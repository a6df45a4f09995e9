"""Pulse's instruments, kept as versioned data files with a validating loader.

Each ``*.toml`` file beside this module is one instrument. :func:`load_all`
reads and validates every file; a mistake raises :class:`InstrumentError`
naming the file and the field.
"""

from questionnaires.loader import (
    DIRECTORY,
    Instrument,
    InstrumentError,
    Item,
    Option,
    instrument_from_definition,
    load_all,
    load_file,
)

__all__ = [
    "DIRECTORY",
    "Instrument",
    "InstrumentError",
    "Item",
    "Option",
    "instrument_from_definition",
    "load_all",
    "load_file",
]
