"""Weigh a staff pulse page as a phone would fetch it: HTML plus everything it loads.

Serves the app on loopback with a fresh demo database, fetches one personal
pulse page and every stylesheet, script and image it references (the demo INT has a
logo, so the header's logo is weighed too, as an INT that sets one would see), and prints
each resource's size raw and after gzip (level 6, what a typical reverse proxy
sends). Target: the total after gzip <= 14 KB, so the page fits the first
round trip of a slow mobile connection (TCP's initial window, ~14.6 KB).

Run: .venv/bin/python bench/page_weight.py
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app import (
    create_app,  # noqa: E402
    demo,  # noqa: E402
)
from survey_app.core.clock import utcnow  # noqa: E402
from survey_app.core.db import get_session, upgrade  # noqa: E402
from survey_app.pulse import waves  # noqa: E402

TARGET_BYTES = 14 * 1024
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"')


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                          "SECRET_KEY": "bench-" + "x" * 40})
        upgrade(app)
        with app.app_context():
            session = get_session()
            demo.load(session, now=utcnow(), instruments=app.extensions["pulse_instruments"],
                      pseudonym_key=b"bench-pseudonym-key-" + b"x" * 32,
                      totp_key=app.config["PULSE_TOTP_KEY"])
            wave_id = demo.open_wave_id(session, now=utcnow())
            assert wave_id is not None
            [link] = waves.reissue_links(session, wave_id=wave_id, count=1)
            session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            page = _fetch(f"{base}/p/{link.token}")
            resources = [("pulse page (HTML)", page)]
            for asset in ASSET.findall(page.decode()):
                if asset.startswith("data:"):
                    continue
                resources.append((asset, _fetch(base + asset)))
        finally:
            server.shutdown()
    total_raw = total_gzip = 0
    print(f"{'resource':<44} {'raw':>8} {'gzip':>8}")
    for name, body in resources:
        packed = len(gzip.compress(body, compresslevel=6))
        total_raw += len(body)
        total_gzip += packed
        print(f"{name:<44} {len(body):>8,} {packed:>8,}")
    verdict = "within" if total_gzip <= TARGET_BYTES else "OVER"
    print(f"{'total':<44} {total_raw:>8,} {total_gzip:>8,}")
    logos = [name for name, _body in resources if "/logo/" in name]
    print(f"INT logo weighed: {logos[0] if logos else 'none (the INT has no logo)'}")
    print(f"target {TARGET_BYTES:,} bytes after gzip: {verdict} "
          f"({total_gzip / TARGET_BYTES:.0%} of budget)")


if __name__ == "__main__":
    main()
