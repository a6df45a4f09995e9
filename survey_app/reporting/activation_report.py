"""Patient activation for an INT's report: counts aggregated in SQL, judged by analysis/.

The ratings of one INT are counted once, in SQL, per month, site, channel and
rating (a few hundred rows however many ratings there are); every table of the
report is a sum over that cube. Only the paired change reads rating rows, and
then only ``(pseudonym, date, rating, site, channel)`` of patients rated twice
or more in the two periods compared.

Suppression (:func:`analysis.suppression.suppress_small_groups`) is applied to
every table before anything leaves this module:

- the site x channel table once, as a two-way table; the by-site and
  by-channel tables are its margins, so every view (filtered or not) hides the
  same groups;
- the months are protected together with the two periods' totals that the
  change section shows (a month must not be a period's total minus the
  months shown);
- a table narrowed by a filter is also checked against each broader view a
  user can open (the whole INT, the site alone, the channel alone), as a
  two-column table of "this view" and "the rest": subtracting one view from
  the other must not reveal a small group;
- tables whose rows are sites (the periods, the paired change) are suppressed
  over every site and a site filter only picks rows, so a site shows the same
  alone as beside the others; a channel filter is a new view, checked against
  every channel.

Paired change compares each patient's first rating in the earlier period with
their latest in the later one: the latest :data:`PERIOD_MONTHS` months against
as many before them.

Statistics come from :mod:`analysis`: distributions and Wilson intervals from
:func:`~analysis.activation.activation_from_counts`, the change in the share of
low activation from :func:`~analysis.proportions.newcombe_difference`, paired
change from :func:`~analysis.activation.paired_activation_change`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import extract, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from analysis import suppression
from analysis.activation import (
    LOW_RATINGS,
    NAPC_FIGURES,
    RATING_LABELS,
    ActivationSummary,
    NapcFigures,
    PairedActivationChange,
    activation_from_counts,
    paired_activation_change,
)
from analysis.proportions import DifferenceInterval, newcombe_difference
from questionnaires import Instrument
from survey_app.core.instruments import instrument_of
from survey_app.models import CHANNELS, ActivationRating, Neighbourhood, QuestionnaireVersion, Site
from survey_app.reporting.exports import PROTECT_ANOTHER_GROUP, TOO_FEW_ANSWERS, RatingRecord
from survey_app.reporting.exports.fhir import CHANNEL_DISPLAY, VersionedRatings

__all__ = [
    "CHANNEL_LABELS",
    "PERIOD_MONTHS",
    "ActivationReport",
    "CurrentQuestionnaire",
    "Filters",
    "PairedRow",
    "PeriodRow",
    "RatingGroup",
    "SiteChannelTable",
    "SiteRef",
    "activation_report",
    "current_questionnaire",
    "finite",
    "rating_label",
    "ratings_for_export",
    "site_names",
    "sites_of",
]

#: Each channel in words, as the report and its downloads name it.
CHANNEL_LABELS: Final[dict[str, str]] = dict(CHANNEL_DISPLAY)

#: Months in each of the two periods that paired change compares (at most).
PERIOD_MONTHS: Final = 6

_REASON_WORDS: Final[dict[str, str]] = {
    suppression.TOO_FEW_ANSWERS: TOO_FEW_ANSWERS,
    suppression.PROTECT_ANOTHER_GROUP: PROTECT_ANOTHER_GROUP,
}

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SiteRef:
    """A site as the report names it."""

    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Filters:
    """The optional narrowing of the report: one site code and/or one channel."""

    site: str | None = None
    channel: str | None = None

    @property
    def active(self) -> bool:
        return self.site is not None or self.channel is not None


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


@dataclass(frozen=True, slots=True)
class PairedRow:
    """Paired change at one site (or every site pooled), and what it means.

    ``change`` covers every patient with a rating in both periods;
    ``started_low`` those whose first rating was 1 or 2, ``started_higher``
    those who started at 3 or 4. Each is None when hidden (reason beside it)
    or when there are no such pairs. ``verdict`` is one of ``rose``,
    ``fell``, ``regression_to_the_mean``, ``no_clear_change``,
    ``too_few``; ``sentence`` says it in plain words.
    """

    site: SiteRef | None
    pairs: int | None
    change: PairedActivationChange | None
    hidden_reason: str | None
    started_low_pairs: int | None
    started_low: PairedActivationChange | None
    started_low_hidden_reason: str | None
    started_higher_pairs: int | None
    started_higher: PairedActivationChange | None
    started_higher_hidden_reason: str | None
    verdict: str
    sentence: str


@dataclass(frozen=True, slots=True)
class ActivationReport:
    """Everything the activation page and its downloads show, already suppressed."""

    threshold: int
    filters: Filters
    sites: tuple[SiteRef, ...]
    months: tuple[RatingGroup, ...]
    total: RatingGroup
    by_site: tuple[RatingGroup, ...]
    by_channel: tuple[RatingGroup, ...]
    site_channel: SiteChannelTable
    earlier_label: str | None
    later_label: str | None
    periods: tuple[PeriodRow, ...]
    paired: tuple[PairedRow, ...]
    napc: NapcFigures

    @property
    def has_ratings(self) -> bool:
        return bool(self.months)


@dataclass(frozen=True, slots=True)
class CurrentQuestionnaire:
    """The wording in use now and the version number it has, or will have once stored."""

    instrument: Instrument
    version: int


# --------------------------------------------------------------------------- queries


def sites_of(session: Session, *, neighbourhood: Neighbourhood) -> list[SiteRef]:
    """The INT's sites by name."""
    rows = session.exec(select(Site).where(Site.neighbourhood_id == neighbourhood.id)
                        .order_by(col(Site.name), col(Site.code)))
    return [SiteRef(site.id or 0, site.code, site.name) for site in rows]


@dataclass(frozen=True, slots=True)
class _Cube:
    """Counts of ratings by month x site x channel x rating (1-4)."""

    months: tuple[tuple[int, int], ...]
    counts: IntArray  # shape (months, sites, channels, 4)


def _cube(session: Session, sites: Sequence[SiteRef]) -> _Cube:
    """One GROUP BY over the INT's ratings; months with no rating between are filled in."""
    site_index = {site.id: i for i, site in enumerate(sites)}
    if not sites:
        return _Cube((), np.zeros((0, 0, len(CHANNELS), 4), np.int64))
    year = extract("year", col(ActivationRating.rated_on))
    month = extract("month", col(ActivationRating.rated_on))
    site_id, channel, rating = (col(ActivationRating.site_id), col(ActivationRating.channel),
                                col(ActivationRating.rating))
    rows = session.execute(
        sql_select(year, month, site_id, channel, rating, func.count())
        .where(site_id.in_(list(site_index)))
        .group_by(year, month, site_id, channel, rating)
    ).all()
    valid = [(int(y), int(m), int(s), str(c), int(r), int(n)) for y, m, s, c, r, n in rows
             if c in CHANNELS and 1 <= int(r) <= 4]
    if not valid:
        return _Cube((), np.zeros((0, len(sites), len(CHANNELS), 4), np.int64))
    first = min(y * 12 + m - 1 for y, m, *_ in valid)
    last = max(y * 12 + m - 1 for y, m, *_ in valid)
    months = tuple(divmod(total, 12) for total in range(first, last + 1))
    counts = np.zeros((len(months), len(sites), len(CHANNELS), 4), np.int64)
    for y, m, site, kind, value, n in valid:
        counts[y * 12 + m - 1 - first, site_index[site], CHANNELS.index(kind), value - 1] += n
    return _Cube(tuple((y, m + 1) for y, m in months), counts)


# --------------------------------------------------------------------------- suppression


def _words(code: object) -> str | None:
    return None if code is None else _REASON_WORDS[str(code)]


@dataclass(frozen=True, slots=True)
class _Protection:
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


def _protect(selected: IntArray, broader: Sequence[IntArray], threshold: int, *,
             row_totals: bool = False) -> _Protection:
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
    words = [_words(code) for code in codes]
    size = selected.size
    row_slice = slice(size, size + rows)
    totals = (slice(size + rows, hidden.size - 1) if selected.ndim == 2
              else slice(size, size + 1))
    return _Protection(
        hidden=hidden[:size].reshape(selected.shape),
        reasons=np.array(words[:size], dtype=object).reshape(selected.shape),
        rows_hidden=hidden[row_slice],
        rows_reasons=tuple(words[row_slice]),
        totals_hidden=hidden[totals],
        totals_reasons=tuple(words[totals]),
        grand_hidden=bool(hidden[-1]),
        grand_reason=words[-1],
    )


# --------------------------------------------------------------------------- groups


def _group(key: str, label: str, counts: IntArray, hidden: bool,
           reason: str | None) -> RatingGroup:
    if hidden:
        return RatingGroup(key, label, None, None, reason or TOO_FEW_ANSWERS)
    n = int(counts.sum())
    return RatingGroup(key, label, n, activation_from_counts(counts) if n else None, None)


def _month_label(year: int, month: int) -> str:
    return f"{date(year, month, 1):%b %Y}"


def _masks(sites: Sequence[SiteRef], filters: Filters
           ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    site_mask = np.array([filters.site in (None, site.code) for site in sites], dtype=bool)
    channel_mask = np.array([filters.channel in (None, c) for c in CHANNELS], dtype=bool)
    return site_mask, channel_mask


def _broader_masks(sites: Sequence[SiteRef], filters: Filters
                   ) -> list[tuple[NDArray[np.bool_], NDArray[np.bool_]]]:
    """The views a user can open that contain this one (none when unfiltered)."""
    everything = _masks(sites, Filters())
    if filters.site is not None and filters.channel is not None:
        return [everything, _masks(sites, Filters(site=filters.site)),
                _masks(sites, Filters(channel=filters.channel))]
    return [everything] if filters.active else []


def _view(counts: IntArray, site_mask: NDArray[np.bool_],
          channel_mask: NDArray[np.bool_]) -> IntArray:
    """Counts by month and rating for the sites and channels selected."""
    picked = counts[:, site_mask][:, :, channel_mask]
    return np.asarray(picked.sum(axis=(1, 2)), dtype=np.int64)


def _month_grid(sizes: IntArray, bounds: tuple[list[int], list[int]] | None
                ) -> tuple[IntArray, list[tuple[int, ...]]]:
    """The months as a table whose column totals are the periods' totals, and where each went.

    The page also shows each period's number of ratings (the sum of its months),
    so the months are protected as a table with one column per period (months
    before the two periods, the earlier, the later), padded with zeros. Its row
    totals mean nothing and are not shown; assuming them known only hides more.
    """
    if bounds is None:
        return sizes, [(i,) for i in range(sizes.size)]
    earlier, later = bounds
    columns = [list(range(earlier[0])), earlier, later]
    columns = [column for column in columns if column]
    grid = np.zeros((max(len(column) for column in columns), len(columns)), np.int64)
    where: list[tuple[int, ...]] = [()] * sizes.size
    for c, column in enumerate(columns):
        for r, month in enumerate(column):
            grid[r, c] = sizes[month]
            where[month] = (r, c)
    return grid, where


def _months(cube: _Cube, sites: Sequence[SiteRef], filters: Filters, threshold: int,
            bounds: tuple[list[int], list[int]] | None
            ) -> tuple[tuple[RatingGroup, ...], RatingGroup]:
    site_mask, channel_mask = _masks(sites, filters)
    by_rating = _view(cube.counts, site_mask, channel_mask)
    grid, where = _month_grid(by_rating.sum(axis=1), bounds)
    broader = [_month_grid(_view(cube.counts, s, c).sum(axis=1), bounds)[0]
               for s, c in _broader_masks(sites, filters)]
    protection = _protect(grid, broader, threshold)
    months = tuple(
        _group(f"{y:04d}-{m:02d}", _month_label(y, m), by_rating[i],
               bool(protection.hidden[where[i]]), protection.reasons[where[i]])
        for i, (y, m) in enumerate(cube.months)
    )
    total = _group("all", "All months", by_rating.sum(axis=0), protection.grand_hidden,
                   protection.grand_reason)
    return months, total


def _site_channel(cube: _Cube, sites: Sequence[SiteRef], filters: Filters, threshold: int
                  ) -> tuple[SiteChannelTable, tuple[RatingGroup, ...], tuple[RatingGroup, ...]]:
    """The two-way table and its margins, suppressed once for every view."""
    site_mask, channel_mask = _masks(sites, filters)
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
                      by_rating[i, j], bool(result.hidden[i, j]), _words(result.reason[i, j]))

    cells = tuple(tuple(cell(i, j) for j in picked_channels) for i in picked_sites)
    by_site: list[RatingGroup] = []
    for i in picked_sites:
        if filters.channel is not None:  # the site within the chosen channel: one cell
            [only] = picked_channels
            by_site.append(cell(i, only, sites[i].code, sites[i].name))
            continue
        by_site.append(_group(sites[i].code, sites[i].name, by_rating[i].sum(axis=0),
                              bool(result.row_total_hidden[i]),
                              _words(result.row_total_reason[i])))
    by_channel: list[RatingGroup] = []
    for j in picked_channels:
        key, label = CHANNELS[j], CHANNEL_LABELS[CHANNELS[j]]
        if filters.site is not None:  # the channel at the chosen site: one cell
            [only_site] = picked_sites
            by_channel.append(cell(only_site, j, key, label))
        else:
            by_channel.append(_group(key, label, by_rating[:, j].sum(axis=0),
                                     bool(result.column_total_hidden[j]),
                                     _words(result.column_total_reason[j])))
    table = SiteChannelTable(tuple(sites[i] for i in picked_sites),
                             tuple(CHANNELS[j] for j in picked_channels), cells)
    return table, tuple(by_site), tuple(by_channel)


# --------------------------------------------------------------------------- periods


def _period_bounds(months: Sequence[tuple[int, int]]
                   ) -> tuple[list[int], list[int]] | None:
    """Month indices of the earlier and the later period: the latest months and those before."""
    size = min(PERIOD_MONTHS, len(months) // 2)
    if size == 0:
        return None
    count = len(months)
    return list(range(count - 2 * size, count - size)), list(range(count - size, count))


def _span_label(months: Sequence[tuple[int, int]], indices: Sequence[int]) -> str:
    first, last = months[indices[0]], months[indices[-1]]
    if first == last:
        return _month_label(*first)
    return f"{_month_label(*first)} to {_month_label(*last)}"


def _periods(cube: _Cube, sites: Sequence[SiteRef], filters: Filters, threshold: int,
             bounds: tuple[list[int], list[int]]) -> tuple[PeriodRow, ...]:
    site_mask, channel_mask = _masks(sites, filters)
    earlier, later = bounds

    def table(channels: NDArray[np.bool_]) -> IntArray:  # sites x period x rating
        picked = cube.counts[:, :, channels].sum(axis=2)
        return np.stack([picked[earlier].sum(axis=0), picked[later].sum(axis=0)], axis=1)

    by_rating = table(channel_mask)
    sizes = by_rating.sum(axis=2)
    # Rows are sites, so a site filter only picks rows; a channel filter is a new view.
    broader = [table(np.ones(len(CHANNELS), dtype=bool)).sum(axis=2)] if filters.channel else []
    protection = _protect(sizes, broader, threshold)
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


# --------------------------------------------------------------------------- paired


@dataclass(frozen=True, slots=True)
class _Rows:
    """Pseudonymised ratings of one site (or pooled), in date order."""

    ratings: list[int]
    patients: list[Hashable]
    periods: list[str]
    channels: list[str]

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [])

    def _pick(self, index: Sequence[int]) -> _Rows:
        return _Rows([self.ratings[i] for i in index], [self.patients[i] for i in index],
                     [self.periods[i] for i in index], [self.channels[i] for i in index])

    def only(self, keep: set[Hashable]) -> _Rows:
        return self._pick([i for i, p in enumerate(self.patients) if p in keep])

    def in_channel(self, channel: str | None) -> _Rows:
        """The ratings given through `channel` (all of them when None)."""
        if channel is None:
            return self
        return self._pick([i for i, c in enumerate(self.channels) if c == channel])

    def extend(self, other: _Rows) -> None:
        self.ratings.extend(other.ratings)
        self.patients.extend(other.patients)
        self.periods.extend(other.periods)
        self.channels.extend(other.channels)

    def pairs(self) -> tuple[set[Hashable], set[Hashable]]:
        """Paired patients who started low, and those who started at 3 or 4.

        A patient's baseline is their first rating in the earlier period, as in
        :func:`analysis.activation.paired_activation_change`.
        """
        first: dict[Hashable, int] = {}
        later: set[Hashable] = set()
        for rating, patient, period in zip(self.ratings, self.patients, self.periods,
                                           strict=True):
            if period == "earlier":
                first.setdefault(patient, rating)
            else:
                later.add(patient)
        paired = [p for p in first if p in later]
        low = {p for p in paired if first[p] <= LOW_RATINGS[-1]}
        return low, set(paired) - low


def _paired_rows(session: Session, sites: Sequence[SiteRef], window: tuple[date, date],
                 periods_from: date) -> dict[int, _Rows]:
    """Ratings of patients rated twice or more at one site in the window, by site id.

    Every channel is read: a patient rated twice in one channel is rated twice
    in all, so :meth:`_Rows.in_channel` gives the same pairs as a query for
    that channel alone, and the unfiltered view is there to check it against.
    """
    conditions = [
        col(ActivationRating.site_id).in_([site.id for site in sites]),
        col(ActivationRating.patient_pseudonym).is_not(None),
        col(ActivationRating.rated_on) >= window[0],
        col(ActivationRating.rated_on) < window[1],
    ]
    site_id, pseudonym = col(ActivationRating.site_id), col(ActivationRating.patient_pseudonym)
    # One pass with a window count, not a join back to a grouped subquery: SQLite
    # would nest-loop that join (quadratic in the ratings of the window).
    counted = (
        sql_select(pseudonym, col(ActivationRating.rated_on), col(ActivationRating.rating),
                   site_id, col(ActivationRating.channel), col(ActivationRating.id),
                   func.count().over(partition_by=(site_id, pseudonym)).label("ratings"))
        .where(*conditions)
        .subquery()
    )
    rows = session.execute(
        sql_select(counted.c.patient_pseudonym, counted.c.rated_on, counted.c.rating,
                   counted.c.site_id, counted.c.channel)
        .where(counted.c.ratings >= 2)
        .order_by(counted.c.rated_on, counted.c.id)
    ).all()
    out: dict[int, _Rows] = {}
    for patient, rated_on, rating, site, channel in rows:
        group = out.setdefault(site, _Rows.empty())
        group.ratings.append(int(rating))
        group.channels.append(str(channel))
        # Pooled across sites a patient is (site, pseudonym): pairs stay within a
        # site, so the pooled row is the sum of the site rows.
        group.patients.append((site, patient))
        group.periods.append("earlier" if rated_on < periods_from else "later")
    return out


def _paired(session: Session, cube: _Cube, sites: Sequence[SiteRef], filters: Filters,
            threshold: int, bounds: tuple[list[int], list[int]],
            periods: Sequence[PeriodRow]) -> tuple[PairedRow, ...]:
    """Paired change per site picked and pooled, suppressed as one table over every site.

    Pairs are counted per site and by where the patient started: a two-way
    table (sites x started low, started higher) whose row totals are each
    site's pairs and whose column and grand totals are the pooled row, all
    shown. A channel filter is checked against every channel (the same table
    unfiltered), so the pairs outside the channel cannot be had by subtraction.
    """
    earlier, later = bounds
    start = date(*cube.months[earlier[0]], 1)
    later_from = date(*cube.months[later[0]], 1)
    end_year, end_month = cube.months[later[-1]]
    end = date(end_year + end_month // 12, end_month % 12 + 1, 1)
    every_channel = _paired_rows(session, sites, (start, end), later_from)

    def view(channel: str | None) -> dict[int, _Rows]:
        return {site.id: every_channel.get(site.id, _Rows.empty()).in_channel(channel)
                for site in sites}

    def pair_counts(splits: dict[int, tuple[set[Hashable], set[Hashable]]]) -> IntArray:
        return np.array([[len(splits[s.id][0]), len(splits[s.id][1])] for s in sites],
                        dtype=np.int64).reshape(len(sites), 2)

    groups = view(filters.channel)
    splits = {site_id: rows.pairs() for site_id, rows in groups.items()}
    broader = ([pair_counts({site_id: rows.pairs() for site_id, rows in view(None).items()})]
               if filters.channel is not None else [])
    protection = _protect(pair_counts(splits), broader, threshold, row_totals=True)
    period_of = {row.site.id if row.site else None: row for row in periods}

    rows: list[PairedRow] = []
    for i, site in enumerate(sites):
        if filters.site not in (None, site.code):
            continue
        rows.append(_paired_row(
            site, groups[site.id], splits[site.id],
            hidden=(bool(protection.rows_hidden[i]), bool(protection.hidden[i, 0]),
                    bool(protection.hidden[i, 1])),
            reasons=(protection.rows_reasons[i], protection.reasons[i, 0],
                     protection.reasons[i, 1]),
            period=period_of.get(site.id)))
    if filters.site is None and sites:
        pooled = _Rows.empty()
        for rows_of_site in groups.values():
            pooled.extend(rows_of_site)
        low = set().union(*(splits[s.id][0] for s in sites))
        higher = set().union(*(splits[s.id][1] for s in sites))
        rows.append(_paired_row(
            None, pooled, (low, higher),
            hidden=(protection.grand_hidden, bool(protection.totals_hidden[0]),
                    bool(protection.totals_hidden[1])),
            reasons=(protection.grand_reason, protection.totals_reasons[0],
                     protection.totals_reasons[1]),
            period=period_of.get(None)))
    return tuple(rows)


def _change(rows: _Rows, keep: set[Hashable]) -> PairedActivationChange | None:
    if not keep:
        return None
    chosen = rows.only(keep)
    return paired_activation_change(chosen.ratings, chosen.patients, chosen.periods,
                                    earlier="earlier", later="later")


def _paired_row(site: SiteRef | None, rows: _Rows, split: tuple[set[Hashable], set[Hashable]],
                *, hidden: tuple[bool, bool, bool], reasons: tuple[str | None, ...],
                period: PeriodRow | None) -> PairedRow:
    low, higher = split
    everyone = low | higher
    change = None if hidden[0] else _change(rows, everyone)
    started_low = None if hidden[0] or hidden[1] else _change(rows, low)
    started_higher = None if hidden[0] or hidden[2] else _change(rows, higher)
    verdict, sentence = _verdict(site, period, started_low, started_higher,
                                 hidden_reason=reasons[0] if hidden[0] else None)
    return PairedRow(
        site=site,
        pairs=None if hidden[0] else len(everyone),
        change=change,
        hidden_reason=reasons[0] if hidden[0] else None,
        started_low_pairs=None if hidden[0] or hidden[1] else len(low),
        started_low=started_low,
        started_low_hidden_reason=(reasons[0] if hidden[0] else reasons[1]) if (
            hidden[0] or hidden[1]) else None,
        started_higher_pairs=None if hidden[0] or hidden[2] else len(higher),
        started_higher=started_higher,
        started_higher_hidden_reason=(reasons[0] if hidden[0] else reasons[2]) if (
            hidden[0] or hidden[2]) else None,
        verdict=verdict,
        sentence=sentence,
    )


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _signed(text: str) -> str:
    return text.replace("-", "\u2212")


def _percentage_points(value: float) -> str:
    return _signed(f"{100 * value:+.0f} percentage points")


def _points(value: float) -> str:
    return _signed(f"{value:+.2f}")


def _verdict(site: SiteRef | None, period: PeriodRow | None,
             started_low: PairedActivationChange | None,
             started_higher: PairedActivationChange | None, *,
             hidden_reason: str | None) -> tuple[str, str]:
    """What the figures say, in plain words.

    Regression to the mean moves patients picked for a low first rating up and
    those picked for a high one down, but leaves the share of low activation
    among everyone rated where it was. So a real rise is one seen in that
    share (every rating, Newcombe interval below zero), and a paired rise
    among patients who started low without it is read as regression to the mean.
    """
    where = site.name if site else "across all sites"
    at = f"at {where}" if site else where
    change = period.change if period else None
    if change is None:
        reason = hidden_reason or (period.earlier.hidden_reason or period.later.hidden_reason
                                   if period else None)
        why = f" ({reason})" if reason else ""
        return "too_few", f"Too few ratings {at} to judge a change{why}."
    shares = (f"the share of ratings with low activation went from "
              f"{_percent(change.estimate1)} to {_percent(change.estimate2)} "
              f"(a change of {_percentage_points(change.difference)}; 95% interval "
              f"{_signed(f'{100 * change.lower:+.0f}')} to "
              f"{_percentage_points(change.upper)})")
    if change.upper < 0:
        sentence = (f"Activation rose {at}: {shares}. Everyone rated moved, not only "
                    "patients who started low, so this is not regression to the mean.")
        if started_higher is not None and started_higher.mean_change >= 0:
            sentence += (" Patients who started at 3 or 4 held their level too "
                         f"(average change {_points(started_higher.mean_change)}).")
        return "rose", sentence
    if change.lower > 0:
        return "fell", f"Activation fell {at}: {shares}."
    if started_low is not None and started_low.mean_change > 0:
        sentence = (f"Patients {at} who were first rated low (1 or 2) scored "
                    f"{started_low.mean_change:.2f} points higher next time on average, but "
                    f"{shares}. Patients first rated low tend to score higher next time "
                    "anyway (regression to the mean), so this rise is not evidence that "
                    "activation improved.")
        if started_higher is not None and started_higher.mean_change < 0:
            sentence += (" Those who started at 3 or 4 scored lower next time "
                         f"({_points(started_higher.mean_change)}), the other half of the "
                         "same pattern.")
        return "regression_to_the_mean", sentence
    return "no_clear_change", f"No clear change in activation {at}: {shares}."


# --------------------------------------------------------------------------- report


def activation_report(session: Session, *, neighbourhood: Neighbourhood, threshold: int,
                      filters: Filters = Filters()) -> ActivationReport:
    """The INT's activation report, narrowed by `filters`, with every table suppressed.

    Raises
    ------
    ValueError
        If `threshold` is below 1, or a filter names a site the INT does not
        have or an unknown channel.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    sites = tuple(sites_of(session, neighbourhood=neighbourhood))
    if filters.site is not None and filters.site not in {site.code for site in sites}:
        raise ValueError(f"site {filters.site!r} is not a site of this INT")
    if filters.channel is not None and filters.channel not in CHANNELS:
        raise ValueError(f"channel {filters.channel!r} is unknown")
    cube = _cube(session, sites)
    bounds = _period_bounds(cube.months)
    months, total = _months(cube, sites, filters, threshold, bounds)
    site_channel, by_site, by_channel = _site_channel(cube, sites, filters, threshold)
    periods: tuple[PeriodRow, ...] = ()
    paired: tuple[PairedRow, ...] = ()
    earlier_label = later_label = None
    if bounds is not None:
        earlier_label = _span_label(cube.months, bounds[0])
        later_label = _span_label(cube.months, bounds[1])
        periods = _periods(cube, sites, filters, threshold, bounds)
        paired = _paired(session, cube, sites, filters, threshold, bounds, periods)
    return ActivationReport(
        threshold=threshold, filters=filters, sites=sites, months=months, total=total,
        by_site=by_site, by_channel=by_channel, site_channel=site_channel,
        earlier_label=earlier_label, later_label=later_label, periods=periods,
        paired=paired, napc=NAPC_FIGURES,
    )


# --------------------------------------------------------------------------- FHIR


def ratings_for_export(session: Session, *, neighbourhood: Neighbourhood,
                       since: date | None = None, until: date | None = None
                       ) -> list[VersionedRatings]:
    """The INT's ratings from `since` to `until` (inclusive), by questionnaire version.

    Each batch holds the ratings answering one stored wording (with that
    wording), oldest version first, so each can reference the Questionnaire
    version it answered.

    Raises
    ------
    ValueError
        If `since` is after `until`.
    """
    if since is not None and until is not None and since > until:
        raise ValueError("since must not be after until")
    site_ids = [site.id for site in sites_of(session, neighbourhood=neighbourhood)]
    query = select(ActivationRating).where(col(ActivationRating.site_id).in_(site_ids))
    if since is not None:
        query = query.where(col(ActivationRating.rated_on) >= since)
    if until is not None:
        query = query.where(col(ActivationRating.rated_on) <= until)
    by_version: dict[int, list[RatingRecord]] = {}
    for rating in session.exec(query.order_by(col(ActivationRating.rated_on),
                                              col(ActivationRating.id))):
        by_version.setdefault(rating.questionnaire_version_id, []).append(
            RatingRecord.from_rating(rating))
    if not by_version:
        return []
    versions = session.exec(select(QuestionnaireVersion)
                            .where(col(QuestionnaireVersion.id).in_(list(by_version)))
                            .order_by(col(QuestionnaireVersion.version)))
    return [VersionedRatings(instrument_of(version), version.version,
                             tuple(by_version[version.id or 0])) for version in versions]


def current_questionnaire(session: Session, *, instrument: Instrument) -> CurrentQuestionnaire:
    """The Questionnaire that new ratings with `instrument` reference, read without writing.

    The stored version with this wording when there is one; otherwise the
    wording as loaded, numbered as
    :func:`~survey_app.core.instruments.ensure_version` will store it
    (one more than the latest version of the key, 1 for the first). Reading
    never stores a version: an export is a read.
    """
    existing = session.exec(select(QuestionnaireVersion).where(
        QuestionnaireVersion.content_hash == instrument.content_hash())).first()
    if existing is not None:
        return CurrentQuestionnaire(instrument_of(existing), existing.version)
    latest = session.exec(select(func.max(QuestionnaireVersion.version)).where(
        QuestionnaireVersion.key == instrument.key)).one()
    return CurrentQuestionnaire(instrument, (latest or 0) + 1)


def site_names(session: Session, *, neighbourhood: Neighbourhood) -> dict[int, str]:
    """Site id -> name, for the FHIR export's site references."""
    return {site.id: site.name for site in sites_of(session, neighbourhood=neighbourhood)}


def finite(value: float) -> float | None:
    """`value`, or None when it is NaN (an interval that needs two pairs)."""
    return value if math.isfinite(value) else None


def rating_label(rating: int) -> str:
    """``1 Not very`` and so on."""
    return f"{rating} {RATING_LABELS[rating]}"
