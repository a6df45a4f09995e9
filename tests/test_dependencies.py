"""The lock is what runs: every dependency in pyproject.toml pinned, in range, with hashes,
and no install step anywhere that resolves versions for itself."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)", re.M)


def _lock() -> dict[str, Version]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        found += [Requirement(r) for r in extra]
    return found


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_every_requirement_is_pinned_within_its_range(requirement: Requirement) -> None:
    pinned = _lock().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in requirements.lock: run make lock"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"requirements.lock pins {requirement.name}=={pinned}, outside {requirement}: "
        "run make lock")


def test_an_extra_s_packages_are_pinned_too() -> None:
    # psycopg[binary] needs psycopg-binary at the same version.
    lock = _lock()
    assert lock["psycopg-binary"] == lock["psycopg"]


def test_every_pin_carries_a_hash() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text())
    pinned = [block for block in blocks if PIN.match(block)]
    assert len(pinned) == len(_lock()) > 50
    for block in pinned:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_lock_pins_the_installers_so_require_hashes_holds() -> None:
    # pip refuses --require-hashes if any package it would install lacks a pin.
    assert {"pip", "setuptools", "pip-tools"} <= set(_lock())


def test_no_install_step_resolves_versions() -> None:
    installs = []
    for name in ("Makefile", ".ci/run", "README.md"):
        for line in (ROOT / name).read_text().splitlines():
            if re.search(r"pip(3)?\b.* install\b", line):
                installs.append((name, line.strip()))
    assert installs, "found no install step to check"
    for name, line in installs:
        assert "--require-hashes" in line or "--no-deps" in line, (name, line)
