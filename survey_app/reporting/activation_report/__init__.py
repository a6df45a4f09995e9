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

The month in progress (the current calendar month, London time) is kept out
of every table until it ends, the charts, the periods, paired change and its
verdicts, and the tables of all months together (by site and channel, "All
months"): a fortnight of ratings plotted beside full months reads as a dip or
a jump that is only a short month. It is one group of its own, labelled "so
far (month in progress)" and suppressed alone; being in no total shown, it
cannot be worked out from one (on its first days it is nearly always small).

Statistics come from :mod:`analysis`: distributions and Wilson intervals from
:func:`~analysis.activation.activation_from_counts`, the change in the share of
low activation from :func:`~analysis.proportions.newcombe_difference`, paired
change from :func:`~analysis.activation.paired_activation_change`.

The package's modules, by concern: :mod:`.cube` loads the counts cube and
gives the views of it; :mod:`.disclosure` decides what to hide;
:mod:`.tables` builds the months, site x channel and period tables;
:mod:`.paired` the paired change, worded by :mod:`.verdicts`; :mod:`.records`
holds the plain records of ratings that the FHIR export takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from analysis.activation import NAPC_FIGURES, NapcFigures
from questionnaires import Instrument
from survey_app.activation.pseudonyms import UnlinkedRatings, unlinked_ratings
from survey_app.core.instruments import instrument_of
from survey_app.models import CHANNELS, ActivationRating, Neighbourhood, QuestionnaireVersion
from survey_app.reporting.activation_report.cube import (
    PERIOD_MONTHS,
    Filters,
    SiteRef,
    complete_months,
    load_cube,
    period_bounds,
    sites_of,
    span_label,
)
from survey_app.reporting.activation_report.paired import PairedRow, paired_change
from survey_app.reporting.activation_report.records import RatingRecord, VersionedRatings
from survey_app.reporting.activation_report.tables import (
    CHANNEL_LABELS,
    IN_PROGRESS,
    PeriodRow,
    RatingGroup,
    SiteChannelTable,
    month_groups,
    month_in_progress_group,
    period_rows,
    site_channel_groups,
)

__all__ = [
    "CHANNEL_LABELS",
    "IN_PROGRESS",
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
    "ratings_for_export",
    "site_names",
    "sites_of",
]

#: The report as a whole: every site, every channel.
_UNFILTERED: Final = Filters()


@dataclass(frozen=True, slots=True)
class ActivationReport:
    """Everything the activation page and its downloads show, already suppressed.

    Every table covers the months that have ended (``months``, the series the
    charts and the change read). ``month_in_progress`` is the current month so
    far, in none of them (None when it has no ratings yet).
    """

    threshold: int
    filters: Filters
    sites: tuple[SiteRef, ...]
    months: tuple[RatingGroup, ...]
    month_in_progress: RatingGroup | None
    total: RatingGroup
    by_site: tuple[RatingGroup, ...]
    by_channel: tuple[RatingGroup, ...]
    site_channel: SiteChannelTable
    earlier_label: str | None
    later_label: str | None
    periods: tuple[PeriodRow, ...]
    paired: tuple[PairedRow, ...]
    napc: NapcFigures
    #: Ratings whose pseudonyms were cleared when the pseudonym key was last changed.
    unlinked: UnlinkedRatings | None = None

    @property
    def has_ratings(self) -> bool:
        return bool(self.months) or self.month_in_progress is not None

    @property
    def month_in_progress_name(self) -> str | None:
        """The month in progress by its name alone ("Dec 2026"); None without its ratings."""
        if self.month_in_progress is None:
            return None
        return self.month_in_progress.label.removesuffix(f" {IN_PROGRESS}")


@dataclass(frozen=True, slots=True)
class CurrentQuestionnaire:
    """The wording in use now and the version number it has, or will have once stored."""

    instrument: Instrument
    version: int


# --------------------------------------------------------------------------- report


def activation_report(session: Session, *, neighbourhood: Neighbourhood, threshold: int,
                      today: date, filters: Filters = _UNFILTERED) -> ActivationReport:
    """The INT's activation report, narrowed by `filters`, with every table suppressed.

    `today` is the date in England (:func:`~survey_app.core.clock.local_date`):
    its month is the month in progress.

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
    loaded = load_cube(session, sites, today=today)
    complete = complete_months(loaded.months, today)
    in_progress = (month_in_progress_group(loaded, complete, sites, filters, threshold)
                   if complete < len(loaded.months) else None)
    cube = loaded.ended(complete)
    bounds = period_bounds(cube.months)
    months, total = month_groups(cube, sites, filters, threshold, bounds)
    site_channel, by_site, by_channel = site_channel_groups(cube, sites, filters, threshold)
    periods: tuple[PeriodRow, ...] = ()
    paired: tuple[PairedRow, ...] = ()
    earlier_label = later_label = None
    if bounds is not None:
        earlier_label = span_label(cube.months, bounds[0])
        later_label = span_label(cube.months, bounds[1])
        periods = period_rows(cube, sites, filters, threshold, bounds)
        paired = paired_change(session, cube, sites, filters, threshold, bounds, periods)
    return ActivationReport(
        threshold=threshold, filters=filters, sites=sites, months=months,
        month_in_progress=in_progress, total=total,
        by_site=by_site, by_channel=by_channel, site_channel=site_channel,
        earlier_label=earlier_label, later_label=later_label, periods=periods,
        paired=paired, napc=NAPC_FIGURES,
        unlinked=unlinked_ratings(session, neighbourhood_id=neighbourhood.id or 0),
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
