"""The signed-in home links to every page the user's role may open, and to no other."""

from __future__ import annotations

import re

import pytest

PREFIXES = ("/admin", "/reports", "/account", "/activation", "/kiosk/enrol")


def _pages(app) -> list[str]:
    """GET pages with no URL parameters under PREFIXES.

    Outside /admin, files (.csv, .json) are left out: each is downloaded from the page
    it belongs to (the ICB CSV from the ICB report). Every /admin page counts.
    """
    found = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.rstrip("/") or "/"
        if ("GET" not in rule.methods or rule.arguments or not path.startswith(PREFIXES)):
            continue
        if not path.startswith("/admin") and path.endswith((".csv", ".json")):
            continue
        found.add(rule.rule)
    return sorted(found)


def _status(client, path: str) -> int:
    with client.get(path) as response:  # closes a file download's open file
        return response.status_code


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#?]+)', html))


@pytest.mark.parametrize("role", ["admin", "lead", "recorder"])
def test_home_links_every_page_the_role_may_open(app, client, make_team, make_site, make_user,
                                                 login, role):
    make_team()
    make_site("RMP")
    make_user(role, ints=("test-int",) if role == "lead" else (),
              sites=("RMP",) if role == "recorder" else ())
    login(client, f"{role}@example.test")
    home = client.get("/home")
    assert home.status_code == 200
    linked = _links(home.data.decode())
    opens = {path: _status(client, path) for path in _pages(app)}
    may_open = {path for path, status in opens.items() if status == 200}
    assert sorted(may_open - linked) == []  # every page the role may open is linked
    assert sorted(path for path in linked & set(opens) if path not in may_open) == []
    if role == "admin":
        admin_pages = [path for path in opens if path.startswith("/admin")]
        assert len(admin_pages) >= 8 and all(opens[path] == 200 for path in admin_pages), opens


def test_an_admins_home_links_each_ints_settings(client, make_team, make_user, login):
    make_team(int_slug="north")
    make_team(int_slug="south")
    make_user("admin")
    login(client, "admin@example.test")
    html = client.get("/home").data.decode()
    for slug in ("north", "south"):
        assert f'href="/admin/ints/{slug}"' in html
        assert client.get(f"/admin/ints/{slug}").status_code == 200


def test_the_admin_pages_link_back_to_the_home(client, make_user, login):
    make_user("admin")
    login(client, "admin@example.test")
    assert 'href="/home"' in client.get("/admin/audit").data.decode()
