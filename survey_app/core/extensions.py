"""Flask extensions created once here and bound to an app in ``create_app``, and the
one accessor for the app's loaded instruments."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_wtf import CSRFProtect

from questionnaires import Instrument


def client_address() -> str:
    """The client's address, as ProxyFix has resolved it behind trusted proxies."""
    return request.remote_addr or "unknown"


csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI (PULSE_RATELIMIT_STORAGE_URL):
# memory in one process, Redis when several workers must share counts.
limiter = Limiter(key_func=client_address)


TEAM_PULSE = "team-pulse"


def instrument(key: str) -> Instrument:
    """The app's instrument ``key``, as loaded (and validated) at start-up."""
    loaded: Instrument = current_app.extensions["pulse_instruments"][key]
    return loaded


def team_pulse() -> Instrument:
    """The staff pulse instrument: what every wave asks from."""
    return instrument(TEAM_PULSE)
