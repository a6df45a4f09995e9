"""The words a reader sees for the codes reports pass around: each phrase written once.

Hidden figures travel as codes (``analysis.suppression``'s, plus the two reasons a
whole team can have no figures); pages, CSV files and charts word them from here.
"""

from __future__ import annotations

from typing import Final

from analysis import suppression

NO_CLOSED_PULSE_CODE: Final = "no_closed_pulse"
NOT_ALL_ASKED_CODE: Final = "not_all_asked"

#: Why a figure or a team's row is hidden, by code.
HIDDEN_REASON_WORDS: Final[dict[str, str]] = {
    suppression.TOO_FEW_ANSWERS: "too few answers",
    suppression.PROTECT_ANOTHER_GROUP: "hidden to protect another group",
    NO_CLOSED_PULSE_CODE: "no closed pulse yet",
    NOT_ALL_ASKED_CODE: "not every engagement question was asked",
}

TOO_FEW_ANSWERS: Final = HIDDEN_REASON_WORDS[suppression.TOO_FEW_ANSWERS]
PROTECT_ANOTHER_GROUP: Final = HIDDEN_REASON_WORDS[suppression.PROTECT_ANOTHER_GROUP]
NO_CLOSED_PULSE: Final = HIDDEN_REASON_WORDS[NO_CLOSED_PULSE_CODE]
NOT_ALL_ASKED: Final = HIDDEN_REASON_WORDS[NOT_ALL_ASKED_CODE]


def hidden_reason(code: str | None) -> str | None:
    """The words for a hidden-reason code; None for a figure that is shown."""
    return None if code is None else HIDDEN_REASON_WORDS[code]
