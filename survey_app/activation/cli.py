"""Commands for sites and activation ratings: ``flask --app wsgi site|activation ...``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from survey_app.activation import pseudonyms, ratings, sites
from survey_app.core import audit
from survey_app.core.cli import echo_json
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.models import SITE_KINDS
from survey_app.pulse import teams

site_cli = AppGroup("site", help="Sites where an INT sees patients.")
activation_cli = AppGroup("activation", help="Patient activation ratings.")
pseudonyms_cli = AppGroup("pseudonyms", help="Changing the key that makes NHS-number "
                          "pseudonyms (see the README).")


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


def _configured_keys() -> pseudonyms.PseudonymKeys:
    keys = pseudonyms.keys_from_config(current_app.config)
    if keys is None:
        raise click.ClickException("PULSE_PSEUDONYM_KEY is not set: this system stores no "
                                   "pseudonyms.")
    return keys


@pseudonyms_cli.command("status")
def pseudonyms_status() -> None:
    """The keys configured, ratings and patients per key, and what is left to match."""
    keys = _configured_keys()
    found = pseudonyms.status(get_session(), keys=keys)
    click.echo(f"Current key: {found.current_key_id}")
    if found.old_key_id is None:
        click.echo("Old key: none (no key change in progress)")
    else:
        click.echo(f"Old key: {found.old_key_id} (key change in progress)")
    click.echo("Ratings with a pseudonym, by key:")
    if not found.by_key:
        click.echo("  none")
    for count in found.by_key:
        name = count.key_id or "unlabelled (recorded before key ids were kept)"
        click.echo(f"  {name}: {_counted(count.ratings, 'rating')}, "
                   f"{_counted(count.patients, 'patient')}")
    if found.old_key_id is not None:
        click.echo(f"Not yet matched under {found.old_key_id}: "
                   f"{_counted(found.unmatched_patients, 'patient')} "
                   f"({_counted(found.unmatched_ratings, 'rating')})")
        click.echo("When enough have been matched, run `flask --app wsgi pseudonyms "
                   "end-transition`, then remove PULSE_PSEUDONYM_OLD_KEY and "
                   "PULSE_PSEUDONYM_OLD_KEY_ID.")
    if found.ended_on is not None:
        click.echo(f"Last key change ended on {found.ended_on.isoformat()} (old key "
                   f"{found.ended_old_key_id}): {_counted(found.ended_unlinked, 'rating')} "
                   "unlinked")


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@pseudonyms_cli.command("end-transition")
@click.confirmation_option(prompt="Ratings not yet matched under the old key will no longer "
                                  "be linked to their patients. End the key change?")
def pseudonyms_end_transition() -> None:
    """End a key change: unmatched old-key pseudonyms are cleared, and counted."""
    session = get_session()
    try:
        ended = pseudonyms.end_transition(session, keys=_configured_keys(), now=utcnow())
    except pseudonyms.PseudonymError as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(f"Ended the change from key {ended.old_key_id}: "
               f"{_counted(ended.cleared, 'earlier rating')} no longer linked to a patient. "
               "Now remove PULSE_PSEUDONYM_OLD_KEY and PULSE_PSEUDONYM_OLD_KEY_ID and restart.")


def init_app(app: Flask) -> None:
    for group in (site_cli, activation_cli, pseudonyms_cli):
        app.cli.add_command(group)
