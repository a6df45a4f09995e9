"""The committed stylesheet is the one the Sass sources build, and covers every class used."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
CSS = ROOT / "survey_app" / "static" / "css" / "pulse.css"
TEMPLATES = ROOT / "survey_app" / "templates"


def test_every_nhsuk_class_in_the_templates_has_styles() -> None:
    css = CSS.read_text()
    # A name ending in "-" is completed by the template (nhsuk-input--width-{{ width }}).
    used = {m for path in TEMPLATES.rglob("*.html")
            for m in re.findall(r"nhsuk-[a-z0-9_-]+", path.read_text()) if not m.endswith("-")}
    missing = sorted(c for c in used if not re.search(rf"\.{re.escape(c)}(?![a-z0-9_-])", css))
    assert missing == [], "add these to a `// keep:` line in pulse.scss, then `make css`"


def test_committed_css_matches_a_fresh_build(tmp_path: Path) -> None:
    if not (ROOT / "node_modules" / ".bin" / "sass").exists() or shutil.which("node") is None:
        if IN_CI:
            pytest.fail("node_modules missing under CI (make test runs npm ci)")
        pytest.skip("npm packages not installed: `make test` installs them")
    fresh = tmp_path / "pulse.css"
    subprocess.run(["bash", str(ROOT / "scripts" / "build_css.sh"), str(fresh)], check=True,
                   capture_output=True, cwd=ROOT)
    assert fresh.read_bytes() == CSS.read_bytes(), "run `make css` and commit pulse.css"


def test_the_stylesheet_loads_nothing_else() -> None:
    css = CSS.read_text()
    assert "url(" not in css and "@font-face" not in css and "@import" not in css
