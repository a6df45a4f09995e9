"""The audit log in words: each event as a sentence, found by who, what and when.

``describe`` turns one stored event (its action, target and details) into the sentence
the admin reads, "lead@example.test viewed the Riverside overview"; ``find_events``
pages through the events newest first, filtered. No answer's value is ever in an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlmodel import Session, col, func, select

from survey_app.core.clock import LONDON
from survey_app.core.paging import PAGE_SIZE, Page
from survey_app.models import AuditEvent, Kiosk, Neighbourhood, Schedule, Site, Team, User


@dataclass(frozen=True)
class Names:
    """What the stored slugs, codes and ids are called, for the sentences."""

    ints: dict[str, str] = field(default_factory=dict)  # INT slug -> name
    teams: dict[str, str] = field(default_factory=dict)  # "int-slug/team-slug" -> name
    sites: dict[str, str] = field(default_factory=dict)  # site code -> name
    kiosks: dict[str, str] = field(default_factory=dict)  # kiosk id -> "name at site"
    schedules: dict[str, str] = field(default_factory=dict)  # schedule id -> whose


def load_names(session: Session) -> Names:
    """Every INT, team, site, kiosk and schedule's name (the tables are small)."""
    ints = {n.id: n for n in session.exec(select(Neighbourhood))}
    teams = {t.id: t for t in session.exec(select(Team))}
    sites = {s.id: s for s in session.exec(select(Site))}
    team_names = {f"{ints[t.neighbourhood_id].slug}/{t.slug}": t.name
                  for t in teams.values() if t.neighbourhood_id in ints}
    kiosks = {str(k.id): f"“{k.name}” at {sites[k.site_id].name}" if k.site_id in sites
              else f"“{k.name}”" for k in session.exec(select(Kiosk))}
    schedules = {}
    for schedule in session.exec(select(Schedule)):
        owner = ints.get(schedule.neighbourhood_id)
        team = teams.get(schedule.team_id) if schedule.team_id is not None else None
        whose = (team.name if team is not None
                 else f"every team of {owner.name}" if owner is not None else "")
        schedules[str(schedule.id)] = whose
    return Names(ints={n.slug: n.name for n in ints.values()}, teams=team_names,
                 sites={s.code: s.name for s in sites.values()}, kiosks=kiosks,
                 schedules=schedules)


@dataclass(frozen=True)
class AuditEntry:
    """One stored event, with the email of whoever was signed in (None: no one)."""

    at: datetime
    email: str | None
    action: str
    target: str | None
    detail: dict[str, Any]


def parse_detail(stored: str | None) -> dict[str, Any]:
    """The event's stored JSON details; {} when there are none or they are not an object."""
    if not stored:
        return {}
    try:
        detail = json.loads(stored)
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


# --- the sentences -------------------------------------------------------------------

Phrase = Callable[[str, dict[str, Any], Names], str]


def _int_name(slug: str, names: Names) -> str:
    return names.ints.get(slug, slug)


def _team_name(key: str, names: Names) -> str:
    key = key.removeprefix("team:")  # report events name the team as "team:int/team"
    int_slug, _, _ = key.partition("/")
    team = names.teams.get(key, key)
    return f"{team} ({_int_name(int_slug, names)})"


def _report(target: str, names: Names) -> str:
    """The report a report event's target names: "the Riverside overview"."""
    kind, _, rest = target.partition(":")
    if target == "index":
        return "the list of reports"
    if target == "icb":
        return "the ICB report"
    if kind == "overview":
        return f"the overview of {_int_name(rest, names)}"
    if kind == "activation":
        return f"the activation report of {_int_name(rest, names)}"
    if kind == "team":
        return f"the team report of {_team_name(rest, names)}"
    return target or "a report"


def _csv(target: str, detail: dict[str, Any], names: Names) -> str:
    kind, _, rest = target.partition(":")
    if kind == "team":
        return f"exported the team CSV of {_team_name(rest, names)}"
    if kind == "overview":
        return f"exported the overview CSV of {_int_name(rest, names)}"
    if kind == "activation":
        table = str(detail.get("file", "")).rsplit("-", 1)[-1] if detail.get("file") else ""
        which = f" ({table.replace('_', ' ')})" if table else ""
        return f"exported an activation CSV{which} of {_int_name(rest, names)}"
    if target == "icb":
        return "exported the ICB CSV"
    return f"exported a CSV of {_report(target, names)}"


def _fhir(target: str, detail: dict[str, Any], names: Names) -> str:
    kind, _, rest = target.partition(":")
    if detail.get("resource") == "Questionnaire" or kind == "questionnaire":
        version = f" (version {detail['version']})" if detail.get("version") else ""
        return f"exported the FHIR questionnaire{version}"
    count = detail.get("ratings")
    ratings = f" ({count} rating{'' if count == 1 else 's'})" if isinstance(count, int) else ""
    return f"exported the FHIR bundle of {_int_name(rest, names)}'s activation ratings{ratings}"


def _roster(target: str, detail: dict[str, Any], names: Names) -> str:
    counts = ""
    if isinstance(detail.get("created"), int) and isinstance(detail.get("updated"), int):
        counts = f" ({detail['created']} added, {detail['updated']} updated)"
    return f"imported the staff roster of {_int_name(target, names)}{counts}"


def _schedule(verb: str) -> Phrase:
    def phrase(target: str, detail: dict[str, Any], names: Names) -> str:
        whose = names.schedules.get(target)
        return f"{verb} the schedule of {whose}" if whose else f"{verb} schedule {target}"
    return phrase


def _api_read(target: str, detail: dict[str, Any], names: Names) -> str:
    token = f" with API token {detail['token_id']}" if detail.get("token_id") else ""
    refused = (f", refused ({detail['status']})"
               if isinstance(detail.get("status"), int) and detail["status"] >= 400 else "")
    return f"read {target or 'the API'} through the API{token}{refused}"


def _team(target: str, names: Names) -> str:
    return _team_name(target, names)


def _kiosk(target: str, names: Names) -> str:
    return f"the kiosk {names.kiosks[target]}" if target in names.kiosks else f"kiosk {target}"


def _site(target: str, names: Names) -> str:
    return f"{names.sites[target]} ({target})" if target in names.sites else f"site {target}"


def _token(target: str) -> str:
    return f"API token {target.removeprefix('api_token:')}"


def _message(target: str, detail: dict[str, Any], names: Names) -> str:
    kind = f" (a {str(detail['kind']).replace('_', ' ')})" if detail.get("kind") else ""
    return f"queued message {target}{kind} to be sent again"


def _action_added(target: str, detail: dict[str, Any], names: Names) -> str:
    stage = f" under “{detail['stage']}”" if detail.get("stage") else ""
    return f"added an action{stage} to the log of {_team_name(target, names)}"


def _recorded(channel: str) -> Phrase:
    how = {"clinician": "in a consultation", "kiosk": "on a kiosk", "qr": "by QR code"}[channel]
    return lambda target, detail, names: f"recorded a patient activation rating {how}"


# Organisation sign-in (accounts.oidc): why one was refused, in a few words.
_OIDC_REFUSALS = {
    "bad_state": "an expired or reused sign-in link", "wrong_nonce": "a token for another "
    "sign-in", "bad_signature": "a token whose signature did not check",
    "expired": "an expired token", "wrong_issuer": "a token from another issuer",
    "wrong_audience": "a token for another service", "unknown_user": "no Pulse account",
    "disabled": "the account is turned off", "domain_not_allowed": "an email domain not "
    "allowed", "linked_elsewhere": "the account is linked to another organisation account",
}


def _oidc_refused(target: str, detail: dict[str, Any], names: Names) -> str:
    reason = str(detail.get("reason", ""))
    why = _OIDC_REFUSALS.get(reason, reason.replace("_", " "))
    return f"was refused an organisation sign-in{f' as {target}' if target else ''}" + (
        f" ({why})" if why else "")


# action -> (label for the filter, what was done). Every audit.record call's action is
# here; tests/admin/test_audit_page.py checks the list against the code.
ACTIONS: dict[str, tuple[str, Phrase]] = {
    "auth.login": ("Signed in", lambda t, d, n: "signed in"),
    "auth.login_failed": ("Failed to sign in", lambda t, d, n: "failed to sign in"),
    "auth.logout": ("Signed out", lambda t, d, n: "signed out"),
    "auth.password_change": ("Changed their password",
                             lambda t, d, n: "changed their password"),
    # Organisation sign-in and the switch for Pulse passwords (accounts.oidc)
    "auth.oidc_login": ("Signed in with an organisation account",
                        lambda t, d, n: "signed in with their organisation account"
                        + (" (linked at this first sign-in)" if d.get("linked") else "")),
    "auth.oidc_refused": ("Refused an organisation sign-in", _oidc_refused),
    "settings.local_passwords": ("Turned Pulse passwords on or off",
                                 lambda t, d, n: "turned Pulse passwords "
                                 + ("off" if d.get("local_passwords") == "off" else "on")),
    # Two-step sign-in and password reset by email (accounts.mfa, accounts.password_reset)
    "auth.session_ended": ("Found a session ended",
                           lambda t, d, n: "came back to a session that had ended"),
    "auth.mfa_enrolled": ("Set up two-step sign-in",
                          lambda t, d, n: "set up two-step sign-in"),
    "auth.mfa_failed": ("Failed a two-step code",
                        lambda t, d, n: "entered a two-step code that was not right"),
    "auth.reset_requested": ("Asked for a password reset",
                             lambda t, d, n: "asked for a password reset link"),
    "auth.reset_completed": ("Reset their password by email link",
                             lambda t, d, n: "set a new password from a reset link"),
    "users.send_reset": ("Sent a password reset link",
                         lambda t, d, n: f"sent a password reset link to {t}"),
    "users.remove_two_step": ("Removed someone's two-step sign-in",
                              lambda t, d, n: f"removed the two-step sign-in of {t}"),
    "users.create": ("Added a user", lambda t, d, n: f"added the user {t}"),
    "users.update": ("Changed a user", lambda t, d, n: f"changed the user {t}"),
    "users.reset_password": ("Reset a password",
                             lambda t, d, n: f"reset the password of {t}"),
    "report.view": ("Viewed a report", lambda t, d, n: f"viewed {_report(t, n)}"),
    "report.pdf": ("Downloaded a report as PDF",
                   lambda t, d, n: f"downloaded {_report(t, n)} as a PDF"),
    "report.csv": ("Exported a CSV", _csv),
    "export.fhir": ("Exported FHIR", _fhir),
    "action.add": ("Added an action", _action_added),
    "rebase.add": ("Set a new baseline",
                   lambda t, d, n: f"set a new baseline for {_team_name(t, n)}"),
    "api.read": ("Read through the API", _api_read),
    "api_token.create": ("Created an API token", lambda t, d, n: f"created {_token(t)}"),
    "api_token.revoke": ("Revoked an API token", lambda t, d, n: f"revoked {_token(t)}"),
    "int.create": ("Created an INT", lambda t, d, n: f"created the INT {_int_name(t, n)}"),
    "int.settings": ("Changed INT settings",
                     lambda t, d, n: f"changed the settings of {_int_name(t, n)}"),
    "team.create": ("Created a team", lambda t, d, n: f"created the team {_team(t, n)}"),
    "site.create": ("Added a site", lambda t, d, n: f"added the site {_site(t, n)}"),
    "kiosk.enrol": ("Enrolled a kiosk", lambda t, d, n: f"enrolled {_kiosk(t, n)}"),
    "kiosk.revoke": ("Revoked a kiosk", lambda t, d, n: f"revoked {_kiosk(t, n)}"),
    "schedule.set": ("Saved a schedule", _schedule("saved")),
    "schedule.pause": ("Paused a schedule", _schedule("paused")),
    "schedule.resume": ("Resumed a schedule", _schedule("resumed")),
    "roster.import": ("Imported a roster", _roster),
    "message.resend": ("Resent a message", _message),
    "activation.record.clinician": ("Recorded activation (consultation)",
                                    _recorded("clinician")),
    "activation.record.kiosk": ("Recorded activation (kiosk)", _recorded("kiosk")),
    "activation.record.qr": ("Recorded activation (QR code)", _recorded("qr")),
    "activation.undo": ("Undid an activation rating",
                        lambda t, d, n: f"undid activation rating {t}"),
    # retention (survey_app.retention.purge): one event a run, with its counts
    "retention.purge": ("Removed data past its retention period",
                        lambda t, d, n: f"removed {d.get('total', 0)} rows past their "
                                        "retention period"),
    "pseudonyms.end_transition": (
        "Ended a pseudonym key change",
        lambda t, d, n: f"ended the change from pseudonym key {t} "
                        f"({d.get('unlinked', 0)} earlier ratings unlinked)"),
}


def action_label(action: str) -> str:
    """The filter's word for ``action``; an unknown action is spelled out."""
    known = ACTIONS.get(action)
    return known[0] if known else action.replace(".", " ").replace("_", " ").capitalize()


def _nobody(action: str) -> str:
    """Who did it when no one was signed in."""
    if action.startswith("auth."):
        return "Someone not signed in"
    if action.startswith("activation.record."):
        return "A patient"
    return "A command on the server"


def describe(entry: AuditEntry, names: Names) -> str:
    """The event as one sentence: "lead@example.test viewed the Riverside overview"."""
    who = entry.email or _nobody(entry.action)
    target = entry.target or ""
    known = ACTIONS.get(entry.action)
    if known is None:
        # An action this list does not know yet still reads as what was recorded.
        of = f" ({target})" if target else ""
        return f"{who}: {action_label(entry.action).lower()}{of}"
    return f"{who} {known[1](target, entry.detail, names)}"


# --- finding events ------------------------------------------------------------------

NO_ONE = -1  # the user filter's value for events with no one signed in


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; None in a field means any."""

    user_id: int | None = None  # NO_ONE: only events with no one signed in
    action: str | None = None
    since: date | None = None  # London dates, both ends included
    until: date | None = None


def _london_midnight(day: date) -> datetime:
    """The moment ``day`` starts in England, in UTC as the log stores it."""
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def _where(chosen: AuditFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if chosen.user_id == NO_ONE:
        conditions.append(col(AuditEvent.user_id).is_(None))
    elif chosen.user_id is not None:
        conditions.append(col(AuditEvent.user_id) == chosen.user_id)
    if chosen.action:
        conditions.append(col(AuditEvent.action) == chosen.action)
    if chosen.since is not None:
        conditions.append(col(AuditEvent.at) >= _london_midnight(chosen.since))
    if chosen.until is not None:
        conditions.append(col(AuditEvent.at) < _london_midnight(chosen.until + timedelta(1)))
    return and_(true(), *conditions)


def find_events(session: Session, *, chosen: AuditFilter, number: int,
                size: int = PAGE_SIZE) -> Page[AuditEntry]:
    """Page ``number`` of the events ``chosen`` picks, newest first."""
    where = _where(chosen)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(where)).one()
    rows = session.exec(
        select(AuditEvent, User.email)
        .outerjoin(User, col(User.id) == col(AuditEvent.user_id))
        .where(where)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((number - 1) * size).limit(size)
    ).all()
    items = [AuditEntry(event.at, email, event.action, event.target, parse_detail(event.detail))
             for event, email in rows]
    return Page(items, int(total), number, size)


def users_with_events(session: Session) -> list[tuple[int, str]]:
    """(id, email) of everyone the log names, by email: the user filter's choices."""
    rows = session.exec(
        select(User.id, User.email)
        .where(col(User.id).in_(select(AuditEvent.user_id).distinct()))
        .order_by(col(User.email))
    ).all()
    return [(int(user_id), email) for user_id, email in rows if user_id is not None]


def recorded_actions(session: Session) -> list[str]:
    """Every action the filter offers: the known ones and any other the log holds."""
    stored = set(session.exec(select(AuditEvent.action).distinct()).all())
    return list(ACTIONS) + sorted(stored - set(ACTIONS))
