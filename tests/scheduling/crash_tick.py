"""A scheduler tick that dies abruptly after N sends, as a killed process would.

Run by tests/scheduling/test_programme_channels.py in a subprocess:
``python tests/scheduling/crash_tick.py 2026-09-01T09:00 5`` with the database
and SMTP settings in the environment. os._exit skips every cleanup, so
nothing after the Nth send is recorded, exactly like a SIGKILL at that moment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from survey_app import create_app  # noqa: E402
from survey_app.scheduling.cli import parse_uk_time  # noqa: E402
from survey_app.scheduling.process import run_tick  # noqa: E402


def main(at: str, crash_after: int) -> None:
    sent = 0

    def die_after_enough(_message: object, _result: object) -> None:
        nonlocal sent
        sent += 1
        if sent >= crash_after:
            os._exit(70)

    run_tick(create_app(), now=parse_uk_time(at), after_send=die_after_enough)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
