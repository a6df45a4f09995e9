"""A real OpenID Provider on loopback (npm's oidc-provider, tests/accounts/oidc_provider.mjs),
and a stand-in browser that signs in through it.

Import the fixtures into a test module (``from tests.accounts.oidc_loopback import
oidc_provider, provider``). Under CI a missing node or oidc-provider fails the test
instead of skipping it; ``make test`` installs oidc-provider with ``npm ci``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from survey_app.accounts.oidc import OidcSettings
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "pulse-loopback"
CLIENT_SECRET = "loopback-client-secret-0123456789abcdef"
# The test app's address (tests.conftest sets PULSE_BASE_URL to it): where the provider
# sends the browser back with the code.
PULSE = "http://pulse.test"


@dataclass(frozen=True)
class LoopbackProvider:
    issuer: str

    def _post(self, path: str, body: dict[str, str]) -> None:
        requests.post(self.issuer + path, json=body, timeout=10).raise_for_status()

    def add_account(self, sub: str, email: str) -> None:
        """An account at the provider, or a new email claim for an existing ``sub``."""
        self._post("/__test/accounts", {"sub": sub, "email": email})

    def tamper(self, mode: str) -> None:
        """Doctor the ID token of the token responses from now on (see the .mjs)."""
        self._post("/__test/tamper", {"mode": mode})

    def reset(self) -> None:
        self._post("/__test/reset", {})

    def settings(self, **changes: Any) -> OidcSettings:
        """Pulse's settings for this provider (``nhs.net`` the one allowed domain)."""
        settings = OidcSettings(issuer=self.issuer, client_id=CLIENT_ID,
                                client_secret=CLIENT_SECRET, button_label="Sign in with NHSmail",
                                allowed_domains=("nhs.net",), leeway_seconds=60)
        return replace(settings, **changes)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI (make test installs it)")
    pytest.skip(f"{what} not installed: `make test` installs it")


def _wait_for_discovery(process: subprocess.Popen[bytes], issuer: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"oidc-provider stopped: {log.read_text()[-2000:]}")
        try:
            if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"oidc-provider did not answer within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackProvider]:
    """The provider, started once per run (per worker), stopped at the end."""
    node = shutil.which("node")
    if node is None:
        _missing("node")
    if not (ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
        _missing("oidc-provider (npm)")
    port = _free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen([str(node), str(SCRIPT), str(port), CLIENT_ID, CLIENT_SECRET],
                                   cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_for_discovery(process, issuer, log)
        yield LoopbackProvider(issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def provider(oidc_provider: LoopbackProvider) -> Iterator[LoopbackProvider]:
    """The provider with no accounts and honest tokens, for one test."""
    oidc_provider.reset()
    yield oidc_provider
    oidc_provider.reset()


def log_in_at_provider(authorization_url: str, sub: str, *, back_to: str = PULSE) -> str:
    """Follow the provider's pages as a browser would, signing in as ``sub`` on its login
    form; returns the URL it sends the browser back to (Pulse's callback)."""
    browser = requests.Session()
    url = authorization_url
    for _ in range(12):
        page = browser.get(url, allow_redirects=False, timeout=10)
        while page.is_redirect:
            url = urljoin(url, page.headers["Location"])
            if url.startswith(back_to):
                return url
            page = browser.get(url, allow_redirects=False, timeout=10)
        assert page.status_code == 200 and "/interaction/" in url, (page.status_code,
                                                                     page.text[:500])
        answer = browser.post(url, data={"prompt": "login", "login": sub, "password": "any"},
                              allow_redirects=False, timeout=10)
        assert answer.is_redirect, answer.text[:500]
        url = urljoin(url, answer.headers["Location"])
        if url.startswith(back_to):
            return url
    raise AssertionError(f"the provider never sent the browser back (last at {url})")
