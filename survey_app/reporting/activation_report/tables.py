"""The report's tables of ratings: by month, by site and channel, and by period.

Each is a sum over the counts cube, suppressed before it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from analysis import suppression
from analysis.activation import ActivationSummary, activation_from_counts
from analysis.proportions import DifferenceInterval, newcombe_difference
from survey_app.models import CHANNELS
from survey_app.models.activation import CHANNEL_DISPLAY
from survey_app.reporting.activation_report.cube import (
    Cube,
    Filters,
    IntArray,
    SiteRef,
    broader_masks,
    masks,
    month_grid,
    month_label,
    view,
)
from survey_app.reporting.activation_report.disclosure import protect, reason_words
from survey_app.reporting.vocabulary import TOO_FEW_ANSWERS

__all__ = [
    "CHANNEL_LABELS",
    "IN_PROGRESS",
    "PeriodRow",
    "RatingGroup",
    "SiteChannelTable",
    "month_groups",
    "month_in_progress_group",
    "period_rows",
    "site_channel_groups",
]

#: Each channel in words, as the report and its downloads name it.
CHANNEL_LABELS: Final[dict[str, str]] = dict(CHANNEL_DISPLAY)

#: After the month's name, wherever the month in progress is shown.
IN_PROGRESS: Final = "so far (month in progress)"


@dataclass(frozen=True, slots=True)
class RatingGroup:
    """The ratings of one group (a month, site, channel or combination).

    ``summary`` is None when the group is hidden (``hidden_reason`` says why,
    in words) or has no ratings (``n`` is 0); ``n`` is None when hidden.
    """

    key: str
    label: str
    n: int | None
    summary: ActivationSummary | None
    hidden_reason: str | None

    @property
    def counts(self) -> tuple[int, ...] | None:
        """Ratings 1-4, or None when hidden or empty."""
        return None if self.summary is None else tuple(int(c) for c in self.summary.counts)


@dataclass(frozen=True, slots=True)
class SiteChannelTable:
    """Ratings by site (rows) and channel (columns), suppressed as one two-way table."""

    sites: tuple[SiteRef, ...]
    channels: tuple[str, ...]
    cells: tuple[tuple[RatingGroup, ...], ...]


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """One site's (or every site's) share of low activation, earlier and later.

    ``change`` is later minus earlier, with Newcombe's interval; None when
    either period is hidden or empty.
    """

    site: SiteRef | None
    earlier: RatingGroup
    later: RatingGroup
    change: DifferenceInterval | None


def _group(key: str, label: str, counts: IntArray, hidden: bool,
           reason: str | None) -> RatingGroup:
    if hidden:
        return RatingGroup(key, label, None, None, reason or TOO_FEW_ANSWERS)
    n = int(counts.sum())
    return RatingGroup(key, label, n, activation_from_counts(counts) if n else None, None)


def month_groups(cube: Cube, sites: Sequence[SiteRef], filters: Filters, threshold: int,
                 bounds: tuple[list[int], list[int]] | None
                 ) -> tuple[tuple[RatingGroup, ...], RatingGroup]:
    if not cube.months:  # no month has ended, or no ratings: nothing to suppress
        return (), _group("all", "All months", np.zeros(4, np.int64), False, None)
    site_mask, channel_mask = masks(sites, filters)
    by_rating = view(cube.counts, site_mask, channel_mask)
    grid, where = month_grid(by_rating.sum(axis=1), bounds)
    broader = [month_grid(view(cube.counts, s, c).sum(axis=1), bounds)[0]
               for s, c in broader_masks(sites, filters)]
    protection = protect(grid, broader, threshold)
    months = tuple(
        _group(f"{y:04d}-{m:02d}", month_label(y, m), by_rating[i],
               bool(protection.hidden[where[i]]), protection.reasons[where[i]])
        for i, (y, m) in enumerate(cube.months)
    )
    total = _group("all", "All months", by_rating.sum(axis=0), protection.grand_hidden,
                   protection.grand_reason)
    return months, total


def month_in_progress_group(cube: Cube, index: int, sites: Sequence[SiteRef],
                            filters: Filters, threshold: int) -> RatingGroup:
    """The ratings so far of the cube's month `index`, the month in progress, suppressed alone.

    No other table counts this month, so no total shown elsewhere includes it:
    it is checked as a group of its own, and against the same month in each
    broader view a user can open.
    """
    month = cube.counts[index:index + 1]
    site_mask, channel_mask = masks(sites, filters)
    counts = view(month, site_mask, channel_mask)[0]
    broader = [np.array([view(month, s, c).sum()], dtype=np.int64)
               for s, c in broader_masks(sites, filters)]
    protection = protect(np.array([counts.sum()], dtype=np.int64), broader, threshold)
    year, number = cube.months[index]
    return _group(f"{year:04d}-{number:02d}", f"{month_label(year, number)} {IN_PROGRESS}",
                  counts, bool(protection.hidden[0]), protection.reasons[0])


def site_channel_groups(
    cube: Cube, sites: Sequence[SiteRef], filters: Filters, threshold: int
) -> tuple[SiteChannelTable, tuple[RatingGroup, ...], tuple[RatingGroup, ...]]:
    """The two-way table and its margins, suppressed once for every view."""
    site_mask, channel_mask = masks(sites, filters)
    picked_channels = [j for j in range(len(CHANNELS)) if channel_mask[j]]
    if not sites:  # an INT without sites: every channel is empty, and nothing to suppress
        channels = tuple(CHANNELS[j] for j in picked_channels)
        return (SiteChannelTable((), channels, ()), (),
                tuple(_group(c, CHANNEL_LABELS[c], np.zeros(4, np.int64), False, None)
                      for c in channels))
    by_rating = np.asarray(cube.counts.sum(axis=0), dtype=np.int64)  # sites x channels x 4
    sizes = by_rating.sum(axis=2)
    result = suppression.suppress_small_groups(sizes, threshold)
    picked_sites = [i for i in range(len(sites)) if site_mask[i]]

    def cell(i: int, j: int, key: str | None = None, label: str | None = None) -> RatingGroup:
        return _group(key or f"{sites[i].code}/{CHANNELS[j]}",
                      label or f"{sites[i].name}, {CHANNEL_LABELS[CHANNELS[j]]}",
                      by_rating[i, j], bool(result.hidden[i, j]), reason_words(result.reason[i, j]))

    cells = tuple(tuple(cell(i, j) for j in picked_channels) for i in picked_sites)
    by_site: list[RatingGroup] = []
    for i in picked_sites:
        if filters.channel is not None:  # the site within the chosen channel: one cell
            [only] = picked_channels
            by_site.append(cell(i, only, sites[i].code, sites[i].name))
            continue
        by_site.append(_group(sites[i].code, sites[i].name, by_rating[i].sum(axis=0),
                              bool(result.row_total_hidden[i]),
                              reason_words(result.row_total_reason[i])))
    by_channel: list[RatingGroup] = []
    for j in picked_channels:
        key, label = CHANNELS[j], CHANNEL_LABELS[CHANNELS[j]]
        if filters.site is not None:  # the channel at the chosen site: one cell
            [only_site] = picked_sites
            by_channel.append(cell(only_site, j, key, label))
        else:
            by_channel.append(_group(key, label, by_rating[:, j].sum(axis=0),
                                     bool(result.column_total_hidden[j]),
                                     reason_words(result.column_total_reason[j])))
    table = SiteChannelTable(tuple(sites[i] for i in picked_sites),
                             tuple(CHANNELS[j] for j in picked_channels), cells)
    return table, tuple(by_site), tuple(by_channel)


def period_rows(cube: Cube, sites: Sequence[SiteRef], filters: Filters, threshold: int,
                bounds: tuple[list[int], list[int]]) -> tuple[PeriodRow, ...]:
    site_mask, channel_mask = masks(sites, filters)
    earlier, later = bounds

    def table(channels: NDArray[np.bool_]) -> IntArray:  # sites x period x rating
        picked = cube.counts[:, :, channels].sum(axis=2)
        return np.stack([picked[earlier].sum(axis=0), picked[later].sum(axis=0)], axis=1)

    by_rating = table(channel_mask)
    sizes = by_rating.sum(axis=2)
    # Rows are sites, so a site filter only picks rows; a channel filter is a new view.
    broader = [table(np.ones(len(CHANNELS), dtype=bool)).sum(axis=2)] if filters.channel else []
    protection = protect(sizes, broader, threshold)
    rows: list[PeriodRow] = []
    for i, site in enumerate(sites):
        if site_mask[i]:
            rows.append(_period_row(site, by_rating[i], protection.hidden[i],
                                    list(protection.reasons[i])))
    if filters.site is None:
        rows.append(_period_row(None, by_rating.sum(axis=0), protection.totals_hidden,
                                list(protection.totals_reasons)))
    return tuple(rows)


def _period_row(site: SiteRef | None, counts: IntArray, hidden: NDArray[np.bool_],
                reasons: Sequence[str | None]) -> PeriodRow:
    key = site.code if site else "all"
    label = site.name if site else "All sites"
    earlier = _group(key, label, counts[0], bool(hidden[0]), reasons[0])
    later = _group(key, label, counts[1], bool(hidden[1]), reasons[1])
    change = None
    if earlier.summary is not None and later.summary is not None:
        a, b = earlier.summary.low_activation, later.summary.low_activation
        change = newcombe_difference(a.successes, a.n, b.successes, b.n)
    return PeriodRow(site, earlier, later, change)
