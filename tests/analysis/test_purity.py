"""analysis/ is pure statistics: importing all of it loads no web or database code."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import analysis

# Every module of the package, private ones included, found on disk so that a new
# module cannot be left out of the check.
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(Path(analysis.__file__).parent)]))


def test_every_module_is_checked() -> None:
    assert {"activation", "change", "engagement", "fatigue", "proportions", "spc"} <= set(MODULES)
    assert "suppression" in MODULES and "_validation" in MODULES


def test_analysis_imports_no_flask_sql_or_survey_app() -> None:
    code = (
        "import sys\n"
        + "".join(f"import analysis.{name}\n" for name in MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'sqlmodel', 'survey_app', 'werkzeug'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
