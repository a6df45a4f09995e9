"""The layout's rules, checked on every module's imports (including those inside functions).

- analysis/ and questionnaires/ are pure: nothing of survey_app, no Flask.
- A feature imports only features below its level: models, core, accounts, pulse,
  activation, scheduling, reporting, api, then admin and demo on top (neither imports
  the other).
- A feature's domain modules (all but its views, forms, CLI and app wiring) import no
  Flask, and they are exactly the modules mypy checks strictly.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# models (the tables, one metadata for Alembic) sit under core, whose audit log and
# instrument versions are tables too.
# retention sits under scheduling, whose daily job runs the purge.
LEVELS = {"models": 0, "core": 1, "accounts": 2, "pulse": 3, "activation": 4,
          "retention": 5, "scheduling": 6, "reporting": 7, "api": 8, "admin": 9, "demo": 9,
          "notices": 9}
WEB = ("flask", "flask_login", "flask_wtf", "flask_limiter", "werkzeug", "wtforms", "jinja2",
       "markupsafe")
# Modules that are the web layer or the app's wiring by their job, beside any views,
# forms or cli module: they may import Flask.
WEB_MODULES = {
    "survey_app", "survey_app.core.config", "survey_app.core.db", "survey_app.core.errors",
    "survey_app.core.extensions", "survey_app.core.health", "survey_app.core.logs",
    "survey_app.core.security", "survey_app.core.templating", "survey_app.accounts.access",
    "survey_app.api", "survey_app.api.openapi", "survey_app.scheduling.process",
}
WEB_NAMES = ("views", "forms", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(p): p for p in (ROOT / package).rglob("*.py")
            if "migrations" not in p.parts}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _feature(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "survey_app" else None


def _is_web(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return (module in WEB_MODULES or ".views" in module or last in WEB_NAMES
            or last.endswith(tuple(f"_{name}" for name in WEB_NAMES))
            # a feature package's __init__ wires it into the app (init_app); demo's
            # is the demo loader itself (its init_app is in demo/cli.py)
            or (module.count(".") == 1 and _feature(module) in LEVELS
                and module != "survey_app.demo"))


@pytest.mark.parametrize("package", ["analysis", "questionnaires"])
def test_the_pure_packages_import_nothing_of_the_app(package):
    for module, path in _modules(package).items():
        bad = {name for name in _imports(path)
               if name.split(".")[0] in ("survey_app", *WEB)}
        assert not bad, f"{module} imports {sorted(bad)}"


def test_no_feature_imports_a_feature_above_it():
    problems = []
    for module, path in _modules("survey_app").items():
        own = _feature(module)
        if own is None:  # survey_app/__init__.py: create_app wires every feature
            continue
        assert own in LEVELS, f"{module}: survey_app.{own} has no level in the layout"
        for name in _imports(path):
            other = _feature(name)
            if other is None or other == own or other not in LEVELS:
                continue
            if LEVELS[other] >= LEVELS[own]:
                problems.append(f"{module} imports {name}")
    assert problems == []


def test_domain_modules_import_no_flask():
    problems = []
    for module, path in _modules("survey_app").items():
        if _is_web(module) or module.startswith("survey_app.models"):
            continue
        bad = {name for name in _imports(path) if name.split(".")[0] in WEB}
        if bad:
            problems.append(f"{module} imports {sorted(bad)}")
    assert problems == []


def test_mypy_is_strict_on_exactly_the_domain_modules():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = next(o["module"] for o in config["overrides"] if o.get("strict"))
    patterns = [m for m in strict if not m.startswith("analysis")]

    def covered(module: str) -> bool:
        return any(module == p or (p.endswith(".*") and (module + ".").startswith(p[:-1]))
                   or (p.endswith(".*") and module == p[:-2]) for p in patterns)

    domain = {m for m in _modules("survey_app")
              if not _is_web(m) and not m.startswith("survey_app.models")}
    assert sorted(m for m in domain if not covered(m)) == []
    web_but_strict = sorted(m for m in _modules("survey_app") if _is_web(m) and covered(m))
    assert web_but_strict == []
