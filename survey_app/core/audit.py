"""The audit log: who did what and when. Never an answer's value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from survey_app.models import AuditEvent


def record(session: Session, *, user_id: int | None, action: str, now: datetime,
           target: str | None = None, detail: Mapping[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(at=now, user_id=user_id, action=action[:64],
                       target=target[:128] if target else None,
                       detail=json.dumps(dict(detail), sort_keys=True) if detail else None)
    session.add(event)
    return event
