"""Every table of Pulse, split by area; import them from here.

Anonymity is a property of the pulse tables, not only of the views: see
:mod:`survey_app.models.pulse` and ``docs/privacy.md``.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from survey_app.models.accounts import (
    ROLES,
    ApiToken,
    AppSetting,
    AuditEvent,
    RecoveryCode,
    User,
    UserNeighbourhood,
    UserSite,
)
from survey_app.models.actions import DEFAULT_STAGES, TeamAction, TeamRebase
from survey_app.models.activation import (
    CHANNELS,
    CONSULTATION_TYPES,
    SITE_KINDS,
    ActivationRating,
    ExperienceRating,
    Kiosk,
    Site,
)
from survey_app.models.base import utc_column
from survey_app.models.pulse import (
    Invitation,
    ItemAnswer,
    Neighbourhood,
    QuestionnaireVersion,
    Response,
    StaffMember,
    Team,
    TeamMembership,
    Wave,
)
from survey_app.models.reporting import (
    ITEM_TALLY_FIELDS,
    ItemTotals,
    WaveChoiceCount,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.models.scheduling import (
    CADENCE_KINDS,
    MESSAGE_KINDS,
    MESSAGE_STATES,
    Message,
    Schedule,
    SchedulerLease,
)

__all__ = [
    "DEFAULT_STAGES",
    "ITEM_TALLY_FIELDS",
    "ItemTotals",
    "ApiToken",
    "AppSetting",
    "RecoveryCode",
    "TeamAction",
    "TeamRebase",
    "WaveChoiceCount",
    "WaveItemSummary",
    "WaveSummary",
    "CADENCE_KINDS",
    "MESSAGE_KINDS",
    "MESSAGE_STATES",
    "Message",
    "Schedule",
    "SchedulerLease",
    "CHANNELS",
    "CONSULTATION_TYPES",
    "ROLES",
    "SITE_KINDS",
    "ActivationRating",
    "AuditEvent",
    "ExperienceRating",
    "Kiosk",
    "Site",
    "SQLModel",
    "User",
    "UserNeighbourhood",
    "UserSite",
    "Invitation",
    "ItemAnswer",
    "Neighbourhood",
    "QuestionnaireVersion",
    "Response",
    "StaffMember",
    "Team",
    "TeamMembership",
    "Wave",
    "utc_column",
]
