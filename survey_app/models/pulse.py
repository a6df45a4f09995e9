"""Tables of the staff pulse: INTs, teams, staff, instruments, waves and answers.

Anonymity is a property of this schema, not only of the views:

* :class:`Invitation` joins a staff member to a wave and holds only the hash
  of their one-time token and whether it has been used: not when.
* :class:`Response` and :class:`ItemAnswer` hold the answers and the wave, and
  nothing that points at a person: a random key (no sequence), no timestamp.
  When a wave closes its responses are rewritten in random order
  (:func:`survey_app.pulse.waves.close_wave`), so neither keys nor row order
  nor the database's own bookkeeping follows the order people answered in.

See ``docs/privacy.md`` for what remains at the storage level.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from survey_app.models.base import utc_column


class Neighbourhood(SQLModel, table=True):
    """An Integrated Neighbourhood Team (INT): the unit that owns teams and sites."""

    __tablename__ = "neighbourhood"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    # Shown to a clinician after a rating of 1 or 2, so the answer changes what happens next.
    low_activation_prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Fatigue guardrails: nobody is invited more often than this, across all
    # waves and teams, and nobody gets more than this many messages a wave.
    invitation_gap_days: int = 21
    max_messages_per_wave: int = 2
    # The stages of the improvement cycle actions are filed under, comma-separated.
    action_stages: str = Field(default="Plan,Do,Study,Act", max_length=200)
    # Who is asking, on the staff, patient and poster pages: the name people know the
    # INT by (None: ``name``), how to reach it, and an optional logo.
    display_name: str | None = Field(default=None, max_length=200)
    contact_text: str | None = Field(default=None, max_length=300)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=32)
    # A PNG re-encoded on upload (survey_app.pulse.branding), small enough for the
    # staff page's weight budget; its SHA-256 versions the logo's URL and is its ETag.
    logo_png: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    logo_sha256: str | None = Field(default=None, max_length=64)
    logo_width: int | None = None
    logo_height: int | None = None

    # Retention in days, per kind of data (survey_app.core.retention names each and
    # gives the defaults; the privacy notices quote these, so they are never stale).
    retain_invitations_days: int = 30      # after the wave closes
    retain_messages_days: int = 90         # after the wave closes, the outbox too
    retain_comments_days: int = 365        # free-text comments, after the wave closes
    retain_answers_days: int = 730         # raw item answers, after the wave closes
    retain_aggregates_days: int = 3650     # per-wave aggregates, after the wave closes
    retain_ratings_days: int = 1095        # activation ratings and pseudonyms
    retain_leavers_days: int = 30          # roster rows, after the leave date
    # What the privacy notices say of the INT as data controller (its DPIA's facts).
    controller_name: str | None = Field(default=None, max_length=200)
    dpo_contact: str | None = Field(default=None, max_length=300)
    lawful_basis_staff: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lawful_basis_patients: str | None = Field(default=None,
                                              sa_column=Column(Text, nullable=True))

    @property
    def public_name(self) -> str:
        """The name shown to staff and patients: the display name, else the INT's name."""
        return self.display_name or self.name


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("neighbourhood_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(
        sa_column=Column(Integer, ForeignKey("neighbourhood.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    slug: str = Field(max_length=64)
    name: str = Field(max_length=200)


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(
        sa_column=Column(Integer, ForeignKey("neighbourhood.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    mobile: str | None = Field(default=None, max_length=20)
    profession: str = Field(max_length=100)
    start_date: date | None = None
    leave_date: date | None = None
    # The Electronic Staff Record number: a person's identity across roster imports.
    employee_number: str | None = Field(default=None, max_length=32, index=True)
    reminders_opt_out: bool = False


class TeamMembership(SQLModel, table=True):
    """A staff member's place in a team; a person may belong to several teams."""

    __tablename__ = "team_membership"
    # Inviting walks a team's members in id order, a batch at a time.
    __table_args__ = (Index("ix_team_membership_team_id_staff_member_id", "team_id",
                            "staff_member_id"),)

    staff_member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff_member.id", ondelete="CASCADE"),
                         primary_key=True)
    )
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    )


class QuestionnaireVersion(SQLModel, table=True):
    """One wording of an instrument; a changed file becomes the next version."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    version: int
    content_hash: str = Field(max_length=64, unique=True)
    definition: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class Wave(SQLModel, table=True):
    """One pulse of one team: a questionnaire version and a window to answer in."""

    __tablename__ = "wave"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    questionnaire_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("questionnaire_version.id"), nullable=False)
    )
    opens_at: datetime = Field(sa_column=utc_column(nullable=False))
    closes_at: datetime = Field(sa_column=utc_column(nullable=False))
    # Set when the close has run (tokens expired, responses reshuffled).
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    schedule_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("schedule.id", ondelete="SET NULL"), nullable=True,
                         index=True),
    )
    # When retention removed the wave's raw data (answers, invitations, comments): its
    # aggregates stay, so charts keep the point and ``db upgrade`` never re-summarises it.
    raw_purged_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # When the one reminder is due (quiet hours respected), and whether it went.
    reminder_due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminders_queued: bool = False
    # False while a scheduled open is still inviting in batches (a crash resumes it).
    invited_all: bool = True
    # JSON list of pool items this wave asks (balanced rotation); None: any.
    due_items: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Invitation(SQLModel, table=True):
    """The right of one staff member to answer one wave once.

    Only hashes of the link token and of the optional printed code are kept, and
    ``used`` says that the right was spent, never when or with which response.
    """

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("wave_id", "staff_member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    staff_member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff_member.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    token_hash: str = Field(max_length=64, unique=True)
    code_hash: str | None = Field(default=None, max_length=64, unique=True)
    # The reminder carries a second link, so the first one keeps working too.
    reminder_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    used: bool = False


def random_key() -> str:
    return uuid.uuid4().hex


class Response(SQLModel, table=True):
    """One person's answers to one wave, with nothing that identifies them."""

    __tablename__ = "response"

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    # JSON list of the item ids this person was shown (blanks among them are
    # item non-response; items not shown are planned missingness).
    items_shown: str = Field(sa_column=Column(Text, nullable=False))
    # Seconds from page load to submit, rounded to 5 s and capped at an hour:
    # a fatigue indicator, never a time of day.
    completion_seconds: int | None = None


class ItemAnswer(SQLModel, table=True):
    __tablename__ = "item_answer"

    response_id: str = Field(
        sa_column=Column(String(32), ForeignKey("response.id", ondelete="CASCADE"),
                         primary_key=True)
    )
    item_id: str = Field(sa_column=Column(String(64), primary_key=True))
    choice: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
