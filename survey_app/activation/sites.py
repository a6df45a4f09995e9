"""Sites where an INT sees patients, and the tablets enrolled there."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from survey_app.core.clock import local_date
from survey_app.core.tokens import hash_secret
from survey_app.models import SITE_KINDS, Kiosk, Neighbourhood, Site


class SiteError(ValueError):
    """A user-facing problem with a site or kiosk request (``field``: the form field at fault)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class SiteSummary:
    code: str
    name: str
    kind: str
    neighbourhood_slug: str


def list_sites(session: Session) -> list[SiteSummary]:
    rows = session.exec(
        select(Site, Neighbourhood.slug)
        .join(Neighbourhood, col(Neighbourhood.id) == col(Site.neighbourhood_id))
        .order_by(col(Neighbourhood.slug), col(Site.code))
    ).all()
    return [SiteSummary(site.code, site.name, site.kind, slug) for site, slug in rows]


def all_sites(session: Session) -> list[Site]:
    return list(session.exec(select(Site).order_by(col(Site.name))))


def find_site(session: Session, *, code: str) -> Site | None:
    """A site by its public code (case-insensitive), or None."""
    return session.exec(select(Site).where(Site.code == code.strip().upper())).first()


def create_site(session: Session, *, neighbourhood: Neighbourhood, code: str, name: str,
                kind: str) -> Site:
    code = code.strip().upper()
    if not code.isalnum() or not 2 <= len(code) <= 12:
        raise SiteError("A site code is 2 to 12 letters and numbers")
    if kind not in SITE_KINDS:
        raise SiteError(f"Site kind must be one of {', '.join(SITE_KINDS)}")
    if find_site(session, code=code) is not None:
        raise SiteError(f"There is already a site {code}")
    site = Site(neighbourhood_id=neighbourhood.id or 0, code=code, name=name.strip(), kind=kind)
    session.add(site)
    session.flush()
    return site


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def enrol_kiosk(session: Session, *, site: Site, name: str, ask_experience: bool,
                now: datetime) -> tuple[Kiosk, str]:
    """Enrol a tablet; returns the kiosk and its secret (for the device cookie only).

    Its name must be unique (ignoring case and spacing) among the INT's active
    kiosks, so the list at /admin/kiosks says which tablet is which.
    """
    name = " ".join(name.split())
    if not name:
        raise SiteError("Enter a name for this tablet, for example Reception tablet 1",
                        field="name")
    active_names = session.exec(
        select(Kiosk.name).join(Site, col(Site.id) == col(Kiosk.site_id))
        .where(Site.neighbourhood_id == site.neighbourhood_id, col(Kiosk.revoked_at).is_(None))
    ).all()
    if _same_name(name) in {_same_name(other) for other in active_names}:
        raise SiteError(f"This INT already has an active kiosk called '{name}': give this "
                        "tablet another name, or revoke the old one at Kiosks first",
                        field="name")
    secret = secrets.token_urlsafe(32)
    kiosk = Kiosk(site_id=site.id or 0, name=name,
                  secret_hash=hash_secret(secret), ask_experience=ask_experience,
                  enrolled_at=now)
    session.add(kiosk)
    session.flush()
    return kiosk, secret


def active_kiosk(session: Session, *, secret: str) -> tuple[Kiosk, Site] | None:
    """The enrolled, unrevoked kiosk holding this secret, with its site."""
    row = session.exec(
        select(Kiosk, Site).join(Site, col(Site.id) == col(Kiosk.site_id))
        .where(Kiosk.secret_hash == hash_secret(secret), col(Kiosk.revoked_at).is_(None))
    ).first()
    return (row[0], row[1]) if row else None


def mark_kiosk_used(session: Session, *, kiosk: Kiosk, now: datetime) -> None:
    """Note the day a kiosk stored a rating (shown at /admin/kiosks)."""
    today = local_date(now)
    if kiosk.last_used_on != today:
        kiosk.last_used_on = today
        session.add(kiosk)


def revoke_kiosk(session: Session, *, kiosk_id: int, now: datetime) -> Kiosk:
    kiosk = session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise SiteError(f"No kiosk {kiosk_id}")
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now
        session.add(kiosk)
    return kiosk


def list_kiosks(session: Session) -> list[tuple[Kiosk, Site]]:
    rows = session.exec(
        select(Kiosk, Site).join(Site, col(Site.id) == col(Kiosk.site_id))
        .order_by(col(Kiosk.revoked_at).is_not(None), col(Site.code), col(Kiosk.id))
    ).all()
    return [(kiosk, site) for kiosk, site in rows]
