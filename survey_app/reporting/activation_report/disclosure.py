"""Disclosure control: which groups of a table to hide, and why, in words.

Each table is checked by :func:`analysis.suppression.suppress_small_groups`
with the totals it shows, and a view narrowed by a filter also against each
broader view a user can open (see :func:`protect`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analysis import suppression
from survey_app.reporting.activation_report.cube import IntArray
from survey_app.reporting.vocabulary import hidden_reason

__all__ = ["Protection", "protect", "reason_words"]


def reason_words(code: object) -> str | None:
    return hidden_reason(None if code is None else str(code))


@dataclass(frozen=True, slots=True)
class Protection:
    """What to hide of a table of group sizes, with the reasons in words.

    ``totals_*`` have one entry per column of a 2-D table (e.g. the "all
    sites" row) and, for a 1-D list, one for its total; ``grand_*`` is the
    total of everything. ``rows_*`` have one entry per row of a 2-D table
    whose row totals are shown, and none otherwise.
    """

    hidden: NDArray[np.bool_]
    reasons: NDArray[np.object_]
    rows_hidden: NDArray[np.bool_]
    rows_reasons: tuple[str | None, ...]
    totals_hidden: NDArray[np.bool_]
    totals_reasons: tuple[str | None, ...]
    grand_hidden: bool
    grand_reason: str | None


def _margins(table: IntArray, *, row_totals: bool = False) -> IntArray:
    """The totals a 1-D list or 2-D table shows besides its cells: rows if asked, columns, all."""
    if table.ndim == 1:
        return np.array([table.sum()], dtype=np.int64)
    rows = [table.sum(axis=1)] if row_totals else []
    return np.concatenate([*rows, table.sum(axis=0), [table.sum()]]).astype(np.int64)


def protect(selected: IntArray, broader: Sequence[IntArray], threshold: int, *,
            row_totals: bool = False) -> Protection:
    """Which groups of `selected` (1-D, or 2-D with its margins shown) to hide.

    A 2-D table always shows its column totals and grand total; its row totals
    too when `row_totals` is true. Each array in `broader` is the same table
    for a view a user can open that contains this one. Subtracting this view
    from it gives "the rest", so each is also checked as a two-column table
    [this view, the rest] whose row totals are the broader view's figures, as
    someone holding both sees them (the margins of this view are checked as
    groups of their own). A group hidden by any check is hidden.
    """
    own = suppression.suppress_small_groups(selected, threshold)
    margin_hidden: list[bool]
    margin_codes: list[object]
    rows = selected.shape[0] if selected.ndim == 2 and row_totals else 0
    if selected.ndim == 2:
        margin_hidden = [*map(bool, own.row_total_hidden[:rows]),
                         *map(bool, own.column_total_hidden), own.grand_total_hidden]
        margin_codes = [*own.row_total_reason[:rows], *own.column_total_reason,
                        own.grand_total_reason]
    else:
        margin_hidden, margin_codes = [own.grand_total_hidden], [own.grand_total_reason]
    hidden = np.concatenate([np.asarray(own.hidden).ravel(), margin_hidden]).astype(bool)
    codes: list[object] = [*np.asarray(own.reason).ravel(), *margin_codes]
    for wider in broader:
        mine = np.concatenate([selected.ravel(), _margins(selected, row_totals=rows > 0)])
        theirs = np.concatenate([wider.ravel(), _margins(wider, row_totals=rows > 0)])
        pair = suppression.suppress_small_groups(np.column_stack([mine, theirs - mine]),
                                                 threshold)
        for i in range(hidden.size):
            if pair.hidden[i, 0]:
                hidden[i] = True
                if codes[i] != suppression.TOO_FEW_ANSWERS:
                    codes[i] = pair.reason[i, 0]
    words = [reason_words(code) for code in codes]
    size = selected.size
    row_slice = slice(size, size + rows)
    totals = (slice(size + rows, hidden.size - 1) if selected.ndim == 2
              else slice(size, size + 1))
    return Protection(
        hidden=hidden[:size].reshape(selected.shape),
        reasons=np.array(words[:size], dtype=object).reshape(selected.shape),
        rows_hidden=hidden[row_slice],
        rows_reasons=tuple(words[row_slice]),
        totals_hidden=hidden[totals],
        totals_reasons=tuple(words[totals]),
        grand_hidden=bool(hidden[-1]),
        grand_reason=words[-1],
    )
