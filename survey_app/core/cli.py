"""What the features' command-line modules share: ``echo_json`` for their ``--json``."""

from __future__ import annotations

import json
from typing import Any

import click


def echo_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON (dates as text), for scripts."""
    click.echo(json.dumps(payload, indent=2, default=str))
