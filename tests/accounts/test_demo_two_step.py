"""The demo's lead and admin come with two-step sign-in set up, and `flask demo load`
prints their secrets beside the demo password, outside production only."""

from __future__ import annotations

from sqlmodel import select

from survey_app.accounts import mfa
from survey_app.core.clock import utcnow
from survey_app.demo import patients
from survey_app.models import User


def test_the_demo_lead_and_admin_are_enrolled_and_the_recorder_is_not(session, riverside):
    enrolled = {u.email: mfa.is_enrolled(u) for u in session.exec(select(User))}
    assert enrolled == {"recorder@riverside-int.example": False,
                        "lead@riverside-int.example": True,
                        "admin@riverside-int.example": True}


def test_the_printed_secret_signs_the_demo_lead_in(client, riverside, hidden_fields):
    fields = hidden_fields(client.get("/login").data)
    step = client.post("/login", data={**fields, "email": "lead@riverside-int.example",
                                       "password": patients.DEMO_PASSWORD})
    assert step.headers["Location"] == "/login/code"
    code = mfa.code_at(patients.DEMO_TOTP_SECRETS["lead@riverside-int.example"],
                       moment=utcnow())
    page = client.get("/login/code")
    done = client.post("/login/code", data={**hidden_fields(page.data), "code": code})
    assert done.headers["Location"] == "/reports/"


def test_demo_load_prints_the_secrets_beside_the_accounts(runner, riverside):
    result = runner.invoke(args=["demo", "load", "--links", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for email, secret in patients.DEMO_TOTP_SECRETS.items():
        [line] = [line for line in lines if email in line]
        assert f"two-step secret {secret}" in line
    [recorder] = [line for line in lines if "recorder@riverside-int.example" in line]
    assert "two-step" not in recorder


def test_demo_load_refuses_production_so_no_secret_is_printed(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "PULSE_ENV", "production")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert not any(secret in result.output for secret in patients.DEMO_TOTP_SECRETS.values())
