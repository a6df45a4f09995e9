"""What paired change means, in plain words, and its numbers as the sentences write them."""

from __future__ import annotations

from analysis.activation import PairedActivationChange
from survey_app.reporting.activation_report.cube import SiteRef
from survey_app.reporting.activation_report.tables import PeriodRow

__all__ = ["verdict_of"]


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _signed(text: str) -> str:
    return text.replace("-", "\u2212")


def _percentage_points(value: float) -> str:
    return _signed(f"{100 * value:+.0f} percentage points")


def _points(value: float) -> str:
    return _signed(f"{value:+.2f}")


def verdict_of(site: SiteRef | None, period: PeriodRow | None,
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
