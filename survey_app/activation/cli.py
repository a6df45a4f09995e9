"""Commands for sites and activation ratings: ``flask --app wsgi site|activation ...``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from survey_app.activation import ratings, sites
from survey_app.core import audit
from survey_app.core.cli import echo_json
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.models import SITE_KINDS
from survey_app.pulse import teams

site_cli = AppGroup("site", help="Sites where an INT sees patients.")
activation_cli = AppGroup("activation", help="Patient activation ratings.")


@site_cli.command("create")
@click.argument("code")
@click.option("--int", "int_slug", required=True, help="INT slug.")
@click.option("--name", required=True, help="The site's name as patients know it.")
@click.option("--kind", type=click.Choice(SITE_KINDS), default="gp_practice",
              show_default=True)
def site_create(code: str, int_slug: str, name: str, kind: str) -> None:
    """Create a site; CODE (2-12 letters and digits) goes in its QR address."""
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        raise click.ClickException(f"No INT {int_slug!r}")
    try:
        site = sites.create_site(session, neighbourhood=neighbourhood, code=code, name=name,
                                 kind=kind)
    except sites.SiteError as error:
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="site.create", target=site.code, now=utcnow())
    session.commit()
    click.echo(f"Created site {site.code}: {current_app.config['PULSE_BASE_URL']}/q/{site.code}")


@site_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def site_list(as_json: bool) -> None:
    """List sites with their codes (used in QR links) and INTs."""
    summaries = sites.list_sites(get_session())
    if as_json:
        echo_json([{"code": s.code, "name": s.name, "kind": s.kind, "int": s.neighbourhood_slug}
                   for s in summaries])
        return
    if not summaries:
        click.echo("No sites yet. Load the demo with `flask --app wsgi demo load`.")
    for s in summaries:
        click.echo(f"{s.code:<8} {s.neighbourhood_slug:<14} {s.kind:<16} {s.name}")


@activation_cli.command("summary")
@click.option("--int", "int_slug", required=True, help="INT slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def activation_summary(int_slug: str, as_json: bool) -> None:
    """Counts of activation ratings for an INT, by rating and by channel."""
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        raise click.ClickException(f"No INT '{int_slug}'.")
    summary = ratings.summarise(session, neighbourhood=neighbourhood)
    if as_json:
        echo_json({"int": int_slug, "total": summary.total, "by_rating": summary.by_rating,
                   "by_channel": summary.by_channel,
                   "patients_followed": summary.patients_followed})
        return
    click.echo(f"{summary.total} activation ratings in {int_slug}")
    for value, count in summary.by_rating.items():
        click.echo(f"  {value}: {count}")
    click.echo("  by channel: " + ", ".join(f"{k} {v}" for k, v in summary.by_channel.items()))
    click.echo(f"  patients with a pseudonym for follow-up: {summary.patients_followed}")


def init_app(app: Flask) -> None:
    for group in (site_cli, activation_cli):
        app.cli.add_command(group)
