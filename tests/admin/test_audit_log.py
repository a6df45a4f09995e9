"""The admin's audit log page: who may read it, and that it never shows an answer."""

from __future__ import annotations

from survey_app.core import audit
from survey_app.core.clock import utcnow


def test_the_audit_log_lists_who_did_what_in_words(client, session, make_team, make_user,
                                                   login):
    make_team()
    admin = make_user("admin")
    lead = make_user("lead", email="lead@example.test", ints=("test-int",))
    audit.record(session, user_id=lead.id, action="report.view", target="overview:test-int",
                 now=utcnow())
    audit.record(session, user_id=admin.id, action="api.read", target="/api/v1/ints",
                 now=utcnow())
    session.commit()
    login(client, "admin@example.test")
    everything = client.get("/admin/audit").data.decode()
    assert "lead@example.test viewed the overview of test-int INT" in everything
    assert "admin@example.test read /api/v1/ints through the API" in everything
    assert "admin@example.test signed in" in everything
    reports = client.get("/admin/audit?action=report.view").data.decode()
    assert "overview of test-int INT" in reports and "/api/v1/ints" not in reports


def test_only_admins_read_the_audit_log(client, make_team, make_user, login):
    make_team()
    make_user("lead", email="lead@example.test", ints=("test-int",))
    assert client.get("/admin/audit").status_code == 302
    login(client, "lead@example.test")
    assert client.get("/admin/audit").status_code == 403
