"""Whether local passwords are on: an admin's switch, kept in the database.

They are on unless an admin turns them off, which Pulse allows only while an
organisation sign-in is set up: with neither, nobody could sign in at all.
"""

from __future__ import annotations

from sqlmodel import Session

from survey_app.models import AppSetting

KEY = "local_passwords"


class LocalPasswordsError(ValueError):
    """Turning local passwords off would leave no way to sign in."""


def are_on(session: Session) -> bool:
    """True unless an admin has turned local passwords off."""
    setting = session.get(AppSetting, KEY)
    return setting is None or setting.value != "off"


def set_on(session: Session, *, on: bool, organisation_sign_in: bool) -> bool:
    """Turn local passwords on or off; returns whether that changed anything.

    Raises
    ------
    LocalPasswordsError
        Turning them off when ``organisation_sign_in`` is False.
    """
    if not on and not organisation_sign_in:
        raise LocalPasswordsError("Local passwords cannot be turned off until organisation "
                                  "sign-in is set up: nobody could sign in")
    changed = are_on(session) != on
    setting = session.get(AppSetting, KEY) or AppSetting(key=KEY, value="on")
    setting.value = "on" if on else "off"
    session.add(setting)
    return changed
