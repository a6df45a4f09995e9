"""Answering a pulse: find the invitation behind a link, choose items, store once."""

from __future__ import annotations

import enum
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import Session, col, or_, select

from questionnaires import Instrument
from survey_app.core import tokens
from survey_app.core.clock import as_utc
from survey_app.core.instruments import instrument_of
from survey_app.models import (
    Invitation,
    ItemAnswer,
    Neighbourhood,
    QuestionnaireVersion,
    Response,
    Team,
    Wave,
)
from survey_app.pulse.rotation import pick_for_person
from survey_app.pulse.waves import is_open


class LinkState(enum.Enum):
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"
    ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class PulseLink:
    """What a token or code unlocks: one invitation to one wave of one team."""

    invitation_id: int
    used: bool
    wave: Wave
    team: Team
    neighbourhood: Neighbourhood
    instrument: Instrument

    @property
    def due_items(self) -> list[str] | None:
        return json.loads(self.wave.due_items) if self.wave.due_items else None

    def state(self, now: datetime) -> LinkState:
        # A closed wave says so whether or not this person answered: telling
        # them apart after close would reveal who did.
        if self.wave.closed_at is None and now < as_utc(self.wave.opens_at):
            return LinkState.NOT_YET_OPEN
        if not is_open(self.wave, now):
            return LinkState.CLOSED
        return LinkState.ANSWERED if self.used else LinkState.OPEN


def find_link(session: Session, *, secret: str) -> PulseLink | None:
    """The invitation behind a link token or a typed code, or None if unknown."""
    code = tokens.normalise_code(secret)
    hashes = [tokens.hash_secret(secret)]
    if code is not None:
        hashes.append(tokens.hash_secret(code))
    row = session.exec(
        select(Invitation, Wave, Team, Neighbourhood)
        .join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .join(Team, col(Team.id) == col(Wave.team_id))
        .join(Neighbourhood, col(Neighbourhood.id) == col(Team.neighbourhood_id))
        .where(or_(col(Invitation.token_hash).in_(hashes),
                   col(Invitation.reminder_token_hash).in_(hashes),
                   col(Invitation.code_hash).in_(hashes)))
    ).first()
    if row is None:
        return None
    invitation, wave, team, neighbourhood = row
    version = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    assert invitation.id is not None and version is not None  # nosec B101  # narrows a type for mypy
    return PulseLink(invitation.id, invitation.used, wave, team, neighbourhood,
                     instrument_of(version))


def choose_items(instrument: Instrument, rng: random.Random,
                 due: Sequence[str] | None = None) -> list[str]:
    """Core items, then ``rotating_per_pulse`` pool items, then optional ones.

    The pool items come from the wave's ``due`` block when it has one (balanced
    rotation, see :mod:`survey_app.pulse.rotation`), else at random.
    """
    pool = [item.id for item in instrument.pool_items]
    candidates = [item_id for item_id in (due or pool) if item_id in pool]
    chosen = set(pick_for_person(candidates, instrument.rotating_per_pulse, rng))
    return (
        [item.id for item in instrument.core_items]
        + [item_id for item_id in pool if item_id in chosen]
        + [item.id for item in instrument.optional_items]
    )


def valid_item_set(instrument: Instrument, item_ids: Sequence[str]) -> bool:
    """True if ``item_ids`` is a set this instrument could have shown."""
    core = [item.id for item in instrument.core_items]
    optional = [item.id for item in instrument.optional_items]
    pool = {item.id for item in instrument.pool_items}
    middle = list(item_ids[len(core):len(item_ids) - len(optional)])
    return (
        list(item_ids[:len(core)]) == core
        and list(item_ids[len(item_ids) - len(optional):]) == optional
        and len(middle) == instrument.rotating_per_pulse
        and len(set(middle)) == len(middle)
        and set(middle) <= pool
    )


def submit_response(
    session: Session,
    *,
    link: PulseLink,
    items_shown: Sequence[str],
    answers: Mapping[str, str],
    completion_seconds: int | None,
) -> bool:
    """Spend the link and store the answers, in the caller's one transaction.

    The conditional UPDATE is the guard: of any number of concurrent posts of
    the same token, exactly one sees ``used`` still false and changes a row;
    the others change nothing and store nothing. Returns whether this call
    stored the response. ``answers`` maps item ids to a choice value or text;
    blanks are left out (item non-response).
    """
    # Lock the wave row (PostgreSQL; SQLite has one writer anyway) so a close
    # cannot run between spending the link and storing the answer, and spend
    # only while the wave is still open: an answer is never lost to a close.
    session.execute(select(Wave.id).where(col(Wave.id) == link.wave.id).with_for_update())
    still_open = select(Wave.id).where(col(Wave.id) == link.wave.id,
                                       col(Wave.closed_at).is_(None)).exists()
    spent = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == link.invitation_id, col(Invitation.used).is_(False))
        .where(still_open)
        .values(used=True)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return False
    response = Response(wave_id=link.wave.id or 0, items_shown=json.dumps(list(items_shown)),
                        completion_seconds=completion_seconds)
    session.execute(insert(Response).values(
        id=response.id, wave_id=response.wave_id, items_shown=response.items_shown,
        completion_seconds=completion_seconds,
    ))
    rows = []
    for item_id, value in answers.items():
        item = link.instrument.item(item_id)
        rows.append({
            "response_id": response.id, "item_id": item_id,
            "choice": value if item.kind == "choice" else None,
            "text": value if item.kind == "text" else None,
        })
    if rows:
        session.execute(insert(ItemAnswer), rows)
    return True
