"""Paired change: each patient's first rating in the earlier period against their latest.

Of the report's tables only this one reads rating rows, and then only
``(pseudonym, key id, date, rating, site, channel)`` of patients rated twice or
more in the two periods compared. A patient is a pseudonym under one key: ratings
under different keys are never paired (see :mod:`survey_app.activation.pseudonyms`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col

from analysis.activation import LOW_RATINGS, PairedActivationChange, paired_activation_change
from survey_app.models import ActivationRating
from survey_app.reporting.activation_report.cube import Cube, Filters, IntArray, SiteRef
from survey_app.reporting.activation_report.disclosure import protect
from survey_app.reporting.activation_report.tables import PeriodRow
from survey_app.reporting.activation_report.verdicts import verdict_of

__all__ = ["PairedRow", "paired_change"]


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
    key_id = col(ActivationRating.pseudonym_key_id)
    # One pass with a window count, not a join back to a grouped subquery: SQLite
    # would nest-loop that join (quadratic in the ratings of the window).
    counted = (
        sql_select(pseudonym, col(ActivationRating.rated_on), col(ActivationRating.rating),
                   site_id, col(ActivationRating.channel), col(ActivationRating.id), key_id,
                   func.count().over(partition_by=(site_id, key_id, pseudonym))
                   .label("ratings"))
        .where(*conditions)
        .subquery()
    )
    rows = session.execute(
        sql_select(counted.c.patient_pseudonym, counted.c.pseudonym_key_id,
                   counted.c.rated_on, counted.c.rating, counted.c.site_id, counted.c.channel)
        .where(counted.c.ratings >= 2)
        .order_by(counted.c.rated_on, counted.c.id)
    ).all()
    out: dict[int, _Rows] = {}
    for patient, key, rated_on, rating, site, channel in rows:
        group = out.setdefault(site, _Rows.empty())
        group.ratings.append(int(rating))
        group.channels.append(str(channel))
        # Pooled across sites a patient is (site, key, pseudonym): pairs stay within a
        # site, so the pooled row is the sum of the site rows.
        group.patients.append((site, key, patient))
        group.periods.append("earlier" if rated_on < periods_from else "later")
    return out


def paired_change(session: Session, cube: Cube, sites: Sequence[SiteRef], filters: Filters,
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
    protection = protect(pair_counts(splits), broader, threshold, row_totals=True)
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
    verdict, sentence = verdict_of(site, period, started_low, started_higher,
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
