"""Flask extensions created once here and bound to an app in ``create_app``."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_wtf import CSRFProtect


def client_address() -> str:
    """The client's address, as ProxyFix has resolved it behind trusted proxies."""
    return request.remote_addr or "unknown"


csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI (PULSE_RATELIMIT_STORAGE_URL):
# memory in one process, Redis when several workers must share counts.
limiter = Limiter(key_func=client_address)
