"""analysis/ is pure statistics: importing all of it loads no web or database code."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["activation", "change", "engagement", "fatigue", "proportions", "spc", "suppression"]


def test_analysis_imports_no_flask_sql_or_survey_app() -> None:
    code = (
        "import sys\n"
        + "".join(f"import analysis.{name}\n" for name in MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'sqlmodel', 'survey_app', 'werkzeug'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
