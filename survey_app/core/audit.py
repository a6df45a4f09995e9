"""The audit log: who did what and when. Never an answer's value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import true
from sqlmodel import Session, col, func, select

from survey_app.core.paging import PAGE_SIZE, Page
from survey_app.models import AuditEvent, User


def record(session: Session, *, user_id: int | None, action: str, now: datetime,
           target: str | None = None, detail: Mapping[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(at=now, user_id=user_id, action=action[:64],
                       target=target[:128] if target else None,
                       detail=json.dumps(dict(detail), sort_keys=True) if detail else None)
    session.add(event)
    return event


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    email: str | None
    action: str
    target: str | None
    detail: str | None


def audit_page(session: Session, *, number: int, action_prefix: str = "",
               size: int = PAGE_SIZE) -> Page[AuditRow]:
    """Audit events newest first, optionally only actions starting ``action_prefix``."""
    where = col(AuditEvent.action).startswith(action_prefix) if action_prefix else true()
    total = session.exec(select(func.count()).select_from(AuditEvent).where(where)).one()
    rows = session.exec(
        select(AuditEvent, User.email)
        .outerjoin(User, col(User.id) == col(AuditEvent.user_id))
        .where(where)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((number - 1) * size).limit(size)
    ).all()
    items = [AuditRow(event.at, email, event.action, event.target, event.detail)
             for event, email in rows]
    return Page(items, int(total), number, size)
