"""Setting up a real INT from the command line: the INT, its teams and its sites."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, Neighbourhood, Site, Team


def test_an_int_its_teams_and_sites_are_created(runner, session):
    made = runner.invoke(args=["int", "create", "northgate", "--name", "Northgate INT"])
    assert made.exit_code == 0, made.output
    team = runner.invoke(args=["team", "create", "northgate/podiatry", "--name", "Podiatry"])
    assert team.exit_code == 0, team.output
    site = runner.invoke(args=["site", "create", "ngs1", "--int", "northgate",
                               "--name", "Northgate Surgery"])
    assert site.exit_code == 0 and "/q/NGS1" in site.output
    neighbourhood = session.exec(select(Neighbourhood)).one()
    assert (neighbourhood.slug, neighbourhood.name) == ("northgate", "Northgate INT")
    assert session.exec(select(Team.slug)).all() == ["podiatry"]
    assert session.exec(select(Site.code, Site.kind)).all() == [("NGS1", "gp_practice")]
    assert {e.action for e in session.exec(select(AuditEvent))} == {
        "int.create", "team.create", "site.create"}
    assert "podiatry" in runner.invoke(args=["team", "list"]).output


@pytest.mark.parametrize("args, message", [
    (["int", "create", "icb", "--name", "X"], "reserved"),
    (["int", "create", "Bad Slug", "--name", "X"], "lower-case letters"),
    (["int", "create", "x-", "--name", "X"], "lower-case letters"),
    (["team", "create", "nowhere/podiatry", "--name", "P"], "existing INT"),
    (["team", "create", "northgate", "--name", "P"], "INT/SLUG"),
    (["site", "create", "N", "--int", "northgate", "--name", "S"], "2 to 12"),
])
def test_bad_setup_is_refused_with_a_reason(runner, session, args, message):
    runner.invoke(args=["int", "create", "northgate", "--name", "Northgate INT"])
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
    assert session.exec(select(Team)).all() == []


def test_a_taken_slug_is_refused(runner):
    runner.invoke(args=["int", "create", "northgate", "--name", "Northgate INT"])
    again = runner.invoke(args=["int", "create", "northgate", "--name", "Other"])
    assert again.exit_code != 0 and "already an INT" in again.output
    runner.invoke(args=["team", "create", "northgate/podiatry", "--name", "Podiatry"])
    twice = runner.invoke(args=["team", "create", "northgate/podiatry", "--name", "P"])
    assert twice.exit_code != 0 and "already has a team" in twice.output
