"""The one error a bad setting raises, in a module of its own so that any part that reads
settings (the config, the email and SMS channels) can raise it without importing another."""

from __future__ import annotations


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""
