"""The retention settings that are not any one INT's, and the rules an INT's periods
must keep to (the INT settings page shows each broken rule against its field)."""

from __future__ import annotations

from collections.abc import Mapping

from survey_app.core.config_error import ConfigError
from survey_app.core.retention_policy import AUDIT_DEFAULT_DAYS, MAX_DAYS, MIN_DAYS

AUDIT_SETTING = "PULSE_RETAIN_AUDIT_DAYS"


def audit_days_from_env(environ: Mapping[str, str]) -> int:
    """Days the audit log is kept: ``PULSE_RETAIN_AUDIT_DAYS``, else 730 (2 years).

    Raises
    ------
    ConfigError
        If it is set but not a whole number of days from MIN_DAYS to MAX_DAYS.
    """
    raw = (environ.get(AUDIT_SETTING) or "").strip()
    if not raw:
        return AUDIT_DEFAULT_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"{AUDIT_SETTING} must be a whole number of days, "
                          f"not {raw!r}") from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ConfigError(f"{AUDIT_SETTING} must be between {MIN_DAYS} and {MAX_DAYS} "
                          f"days, not {days}")
    return days


def period_problems(days: Mapping[str, int], *, invitation_gap_days: int) -> dict[str, str]:
    """Each retention column (``retain_answers_days``) whose period breaks a rule, with
    the rule in words; empty when all hold.

    Raw rows outlasting what is built from them would make a purge remove the
    aggregates (and the wave from the reports) while its answers stayed; invitations
    are how the fatigue gap knows who was asked, so they must last at least as long.
    """
    problems: dict[str, str] = {}

    def rule(column: str, holds: bool, words: str) -> None:
        if not holds and column not in problems:
            problems[column] = words

    answers = days["retain_answers_days"]
    aggregates = days["retain_aggregates_days"]
    rule("retain_answers_days", answers <= aggregates,
         "Keep individual answers no longer than the per-pulse totals "
         f"({aggregates} days)")
    rule("retain_comments_days", days["retain_comments_days"] <= answers,
         f"Keep comments no longer than the individual answers ({answers} days)")
    rule("retain_invitations_days", days["retain_invitations_days"] <= aggregates,
         f"Keep invitations no longer than the per-pulse totals ({aggregates} days)")
    rule("retain_messages_days", days["retain_messages_days"] <= aggregates,
         f"Keep messages no longer than the per-pulse totals ({aggregates} days)")
    rule("retain_invitations_days", days["retain_invitations_days"] >= invitation_gap_days,
         "Keep invitations at least as long as the fewest days between two invitations "
         f"({invitation_gap_days} days), or people could be asked again too soon")
    return problems
