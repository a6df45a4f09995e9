"""Settings, read from the environment (``PULSE_*``) over safe defaults.

Settings may also be kept in the instance folder's ``pulse.env`` (``NAME=value``
lines); the environment wins over it. ``make run`` keeps ``PULSE_BASE_URL`` there,
so CLI commands run from another shell print links to the server it started.

In production the app refuses to start without a real secret key; in
development a key is generated once and kept in the instance folder, so
sessions survive restarts without anyone having to set one.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from questionnaires import DIRECTORY as QUESTIONNAIRES
from survey_app.core.config_error import ConfigError

ENVIRONMENTS = ("development", "production", "testing")
PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret"}
INSTANCE_SETTINGS = "pulse.env"
SETTING_NAME = re.compile(r"PULSE_[A-Z0-9_]+")


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _kiosk_timeout(environ: Mapping[str, str]) -> int:
    seconds = _env_int(environ, "PULSE_KIOSK_TIMEOUT_SECONDS", 60)
    if seconds < 30:
        raise ConfigError("PULSE_KIOSK_TIMEOUT_SECONDS must be at least 30 (the kiosk warns "
                          f"20 seconds before it starts again), got {seconds}")
    return seconds


def instance_settings(instance_path: str) -> dict[str, str]:
    """The ``PULSE_*`` settings kept in the instance folder's pulse.env, if there is one.

    One ``NAME=value`` a line; blank lines and lines starting ``#`` are skipped.

    Raises
    ------
    ConfigError
        Naming the file and line, for a line that is not a ``PULSE_`` setting.
    """
    path = Path(instance_path) / INSTANCE_SETTINGS
    if not path.is_file():
        return {}
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not SETTING_NAME.fullmatch(name.strip()):
            raise ConfigError(f"{path}, line {number}: expected PULSE_NAME=value, "
                              f"got {line!r}")
        found[name.strip()] = value.strip()
    return found


def remember_setting(instance_path: str, name: str, value: str) -> None:
    """Keep ``name=value`` in the instance folder's pulse.env, replacing an earlier value
    of ``name`` and leaving the file's other lines as they were."""
    if not SETTING_NAME.fullmatch(name) or "\n" in value:
        raise ConfigError(f"Cannot keep {name!r}={value!r} in {INSTANCE_SETTINGS}")
    path = Path(instance_path) / INSTANCE_SETTINGS
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [
        "# Pulse settings for this checkout; environment variables win over these."]
    kept = [line for line in lines if line.partition("=")[0].strip() != name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*kept, f"{name}={value}"]) + "\n", encoding="utf-8")


def load_settings(instance_path: str, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, over the instance folder's
    pulse.env (see :func:`instance_settings`)."""
    environ = {**instance_settings(instance_path), **environ}
    env = environ.get("PULSE_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PULSE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    port = _env_int(environ, "PULSE_PORT", 5000)
    database_url = environ.get("PULSE_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "pulse.sqlite3")
    )
    settings: dict[str, Any] = {
        "PULSE_ENV": env,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PULSE_BASE_URL": environ.get("PULSE_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        "PULSE_QUESTIONNAIRES": environ.get("PULSE_QUESTIONNAIRES", str(QUESTIONNAIRES)),
        "PULSE_SUPPRESSION_THRESHOLD": _env_int(environ, "PULSE_SUPPRESSION_THRESHOLD", 5),
        "PULSE_FREE_TEXT_THRESHOLD": _env_int(environ, "PULSE_FREE_TEXT_THRESHOLD", 10),
        "PULSE_TRUSTED_PROXIES": _env_int(environ, "PULSE_TRUSTED_PROXIES", 0),
        "RATELIMIT_STORAGE_URI": environ.get("PULSE_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": False,
        "PULSE_CODE_ATTEMPT_LIMIT": environ.get(
            "PULSE_CODE_ATTEMPT_LIMIT", "10 per minute;40 per hour"
        ),
        # An open pulse page keeps its form valid for 12 hours; an older one is
        # re-shown with the answers kept rather than rejected (see pulse.views).
        "WTF_CSRF_TIME_LIMIT": _env_int(environ, "PULSE_FORM_TIME_LIMIT", 12 * 3600),
        # Roster uploads are the largest requests: 25 MB is ~200,000 rows.
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "SESSION_COOKIE_NAME": "pulse_session",
        # A signed-in session lasts a working day.
        "PERMANENT_SESSION_LIFETIME": _env_int(environ, "PULSE_SESSION_HOURS", 12) * 3600,
        "PULSE_LOGIN_CLIENT_LIMIT": environ.get("PULSE_LOGIN_CLIENT_LIMIT",
                                                "20 per minute;100 per hour"),
        "PULSE_LOGIN_ACCOUNT_LIMIT": environ.get("PULSE_LOGIN_ACCOUNT_LIMIT",
                                                 "5 per minute;20 per hour"),
        "PULSE_QR_LIMIT": environ.get("PULSE_QR_LIMIT", "30 per minute;300 per hour"),
        # A kiosk step left this long without a tap starts again for the next patient
        # (with a 20-second warning first, so at least 30).
        "PULSE_KIOSK_TIMEOUT_SECONDS": _kiosk_timeout(environ),
        # Staff results pages (no sign-in) per client address.
        "PULSE_RESULTS_LIMIT": environ.get("PULSE_RESULTS_LIMIT", "60 per minute;600 per hour"),
        # The read-only API: calls per token, and failed token checks per client.
        "PULSE_API_RATE_LIMIT": environ.get("PULSE_API_RATE_LIMIT", "120 per minute"),
        "PULSE_API_FAILED_AUTH_LIMIT": environ.get("PULSE_API_FAILED_AUTH_LIMIT",
                                                   "30 per minute"),
    }
    settings["SECRET_KEY"] = _secret_key(env, instance_path, environ)
    settings["PULSE_PSEUDONYM_KEY"] = _pseudonym_key(env, instance_path, environ)
    settings.update(_pseudonym_key_ids(settings["PULSE_PSEUDONYM_KEY"], environ))
    # PULSE_SMTP and PULSE_NOTIFY are read by scheduling's init_app, beside the channels.
    return settings


def _secret_key(env: str, instance_path: str, environ: Mapping[str, str]) -> str:
    key = environ.get("PULSE_SECRET_KEY", "")
    if env == "production":
        if key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < 32:
            raise ConfigError(
                "PULSE_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return key
    return key or _kept_in_instance(instance_path, "secret_key")


def _pseudonym_key(env: str, instance_path: str, environ: Mapping[str, str]) -> bytes | None:
    """The HMAC key for NHS-number pseudonyms, or None (then NHS numbers are refused).

    It must live outside the database: whoever holds both could test guesses.
    Production takes it only from the environment; development keeps one in
    the instance folder so the demo works out of the box.
    """
    key = environ.get("PULSE_PSEUDONYM_KEY", "")
    if key:
        if len(key) < 32:
            raise ConfigError("PULSE_PSEUDONYM_KEY must be at least 32 characters")
        return key.encode()
    if env == "production":
        return None
    return _kept_in_instance(instance_path, "pseudonym_key").encode()


PSEUDONYM_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _pseudonym_key_ids(current: bytes | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """The current key's id and, during a key change, the old key and its id.

    Every rating records the id of the key that made its pseudonym; with an old
    key set, a rating under the new key re-keys that patient's old-key ratings
    (see :mod:`survey_app.activation.pseudonyms`).
    """
    key_id = environ.get("PULSE_PSEUDONYM_KEY_ID", "") or "k1"
    old_key = environ.get("PULSE_PSEUDONYM_OLD_KEY", "")
    old_id = environ.get("PULSE_PSEUDONYM_OLD_KEY_ID", "")
    for name, value in (("PULSE_PSEUDONYM_KEY_ID", key_id),
                        ("PULSE_PSEUDONYM_OLD_KEY_ID", old_id)):
        if value and not PSEUDONYM_KEY_ID.fullmatch(value):
            raise ConfigError(f"{name} must be 1 to 32 letters, digits, '-' or '_' "
                              f"(for example k2), got {value!r}")
    if old_id and not old_key:
        raise ConfigError("PULSE_PSEUDONYM_OLD_KEY_ID is set but PULSE_PSEUDONYM_OLD_KEY is "
                          "not: set both during a key change, or neither")
    if old_key:
        if not old_id:
            raise ConfigError("PULSE_PSEUDONYM_OLD_KEY needs PULSE_PSEUDONYM_OLD_KEY_ID, the "
                              "id its ratings were recorded under (k1 unless it was set)")
        if len(old_key) < 32:
            raise ConfigError("PULSE_PSEUDONYM_OLD_KEY must be at least 32 characters")
        if current is None:
            raise ConfigError("PULSE_PSEUDONYM_OLD_KEY is set without PULSE_PSEUDONYM_KEY: "
                              "a key change needs the new key as well")
        if old_id == key_id:
            raise ConfigError(f"PULSE_PSEUDONYM_OLD_KEY_ID and PULSE_PSEUDONYM_KEY_ID are both "
                              f"{key_id!r}: give the new key a new id (for example k2)")
        if old_key.encode() == current:
            raise ConfigError("PULSE_PSEUDONYM_OLD_KEY is the same as PULSE_PSEUDONYM_KEY: "
                              "set PULSE_PSEUDONYM_KEY to the new key")
    return {"PULSE_PSEUDONYM_KEY_ID": key_id,
            "PULSE_PSEUDONYM_OLD_KEY": old_key.encode() if old_key else None,
            "PULSE_PSEUDONYM_OLD_KEY_ID": old_id or None}


def _kept_in_instance(instance_path: str, name: str) -> str:
    """A random value generated once and kept (owner-only) in the instance folder."""
    key_file = Path(instance_path) / name
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(48)
    key_file.write_text(generated)
    key_file.chmod(0o600)
    return generated
