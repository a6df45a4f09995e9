"""The counts cube of one INT's ratings, and the views of it that the report's tables sum.

The ratings are counted once, in SQL, by month x site x channel x rating; a
filter is a pair of masks (sites, channels) over that cube. The month helpers
place the months in the two periods that paired change compares.

The month in progress (the current calendar month, London time) is loaded
with the rest but kept apart (:meth:`Cube.ended`): a month with a week of
ratings is not a month, and summed or compared with full ones it would read
as a change that is only a short month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import extract, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from survey_app.models import CHANNELS, ActivationRating, Neighbourhood, Site

__all__ = [
    "PERIOD_MONTHS",
    "Cube",
    "Filters",
    "IntArray",
    "SiteRef",
    "broader_masks",
    "complete_months",
    "load_cube",
    "masks",
    "month_grid",
    "month_label",
    "next_month",
    "period_bounds",
    "sites_of",
    "span_label",
    "view",
]

#: Months in each of the two periods that paired change compares (at most).
PERIOD_MONTHS: Final = 6

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


def sites_of(session: Session, *, neighbourhood: Neighbourhood) -> list[SiteRef]:
    """The INT's sites by name."""
    rows = session.exec(select(Site).where(Site.neighbourhood_id == neighbourhood.id)
                        .order_by(col(Site.name), col(Site.code)))
    return [SiteRef(site.id or 0, site.code, site.name) for site in rows]


@dataclass(frozen=True, slots=True)
class Cube:
    """Counts of ratings by month x site x channel x rating (1-4)."""

    months: tuple[tuple[int, int], ...]
    counts: IntArray  # shape (months, sites, channels, 4)

    def ended(self, count: int) -> Cube:
        """The cube of its first `count` months (see :func:`complete_months`)."""
        return Cube(self.months[:count], self.counts[:count])


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def load_cube(session: Session, sites: Sequence[SiteRef], *, today: date) -> Cube:
    """One GROUP BY over the INT's ratings up to `today`'s month; gaps between are filled in.

    Ratings are dated the day they are given, so none is later than today; one
    dated after this month (a clock set wrong) is left out rather than shown
    as a month that has not begun.
    """
    site_index = {site.id: i for i, site in enumerate(sites)}
    if not sites:
        return Cube((), np.zeros((0, 0, len(CHANNELS), 4), np.int64))
    year = extract("year", col(ActivationRating.rated_on))
    month = extract("month", col(ActivationRating.rated_on))
    site_id, channel, rating = (col(ActivationRating.site_id), col(ActivationRating.channel),
                                col(ActivationRating.rating))
    rows = session.execute(
        sql_select(year, month, site_id, channel, rating, func.count())
        .where(site_id.in_(list(site_index)),
               col(ActivationRating.rated_on) < next_month(today))
        .group_by(year, month, site_id, channel, rating)
    ).all()
    valid = [(int(y), int(m), int(s), str(c), int(r), int(n)) for y, m, s, c, r, n in rows
             if c in CHANNELS and 1 <= int(r) <= 4]
    if not valid:
        return Cube((), np.zeros((0, len(sites), len(CHANNELS), 4), np.int64))
    first = min(y * 12 + m - 1 for y, m, *_ in valid)
    last = max(y * 12 + m - 1 for y, m, *_ in valid)
    months = tuple(divmod(total, 12) for total in range(first, last + 1))
    counts = np.zeros((len(months), len(sites), len(CHANNELS), 4), np.int64)
    for y, m, site, kind, value, n in valid:
        counts[y * 12 + m - 1 - first, site_index[site], CHANNELS.index(kind), value - 1] += n
    return Cube(tuple((y, m + 1) for y, m in months), counts)


def masks(sites: Sequence[SiteRef], filters: Filters
          ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    site_mask = np.array([filters.site in (None, site.code) for site in sites], dtype=bool)
    channel_mask = np.array([filters.channel in (None, c) for c in CHANNELS], dtype=bool)
    return site_mask, channel_mask


def broader_masks(sites: Sequence[SiteRef], filters: Filters
                  ) -> list[tuple[NDArray[np.bool_], NDArray[np.bool_]]]:
    """The views a user can open that contain this one (none when unfiltered)."""
    everything = masks(sites, Filters())
    if filters.site is not None and filters.channel is not None:
        return [everything, masks(sites, Filters(site=filters.site)),
                masks(sites, Filters(channel=filters.channel))]
    return [everything] if filters.active else []


def view(counts: IntArray, site_mask: NDArray[np.bool_],
         channel_mask: NDArray[np.bool_]) -> IntArray:
    """Counts by month and rating for the sites and channels selected."""
    picked = counts[:, site_mask][:, :, channel_mask]
    return np.asarray(picked.sum(axis=(1, 2)), dtype=np.int64)


def month_label(year: int, month: int) -> str:
    return f"{date(year, month, 1):%b %Y}"


def month_grid(sizes: IntArray, bounds: tuple[list[int], list[int]] | None
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


def complete_months(months: Sequence[tuple[int, int]], today: date) -> int:
    """How many of `months` (in order, none after `today`'s) have ended by `today`."""
    return sum(1 for month in months if month < (today.year, today.month))


def period_bounds(months: Sequence[tuple[int, int]]
                  ) -> tuple[list[int], list[int]] | None:
    """Month indices of the earlier and the later period: the latest months and those before.

    Pass only complete months (see :func:`complete_months`): the periods end
    with the latest month that has ended.
    """
    size = min(PERIOD_MONTHS, len(months) // 2)
    if size == 0:
        return None
    count = len(months)
    return list(range(count - 2 * size, count - size)), list(range(count - size, count))


def span_label(months: Sequence[tuple[int, int]], indices: Sequence[int]) -> str:
    first, last = months[indices[0]], months[indices[-1]]
    if first == last:
        return month_label(*first)
    return f"{month_label(*first)} to {month_label(*last)}"
