"""``flask --app wsgi retention purge [--dry-run]``: remove what the retention periods no
longer allow, or show what that would be."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.retention_policy import KINDS
from survey_app.retention import purge as purging

retention_cli = AppGroup("retention", help="How long data is kept, and removing the rest.")

KIND_WORDS = {kind.column: kind.name for kind in KINDS} | {purging.AUDIT_KIND: "Audit log"}


def _line(neighbourhood: str, kind: str, count: int) -> str:
    return f"{neighbourhood}: {KIND_WORDS.get(kind, kind)}: {count} row{'s' * (count != 1)}"


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True,
              help="Print what would be removed, per INT and kind, and remove nothing.")
@click.option("--batch-size", type=click.IntRange(min=1), default=purging.BATCH_SIZE,
              show_default=True, help="Rows removed per transaction.")
def purge_command(dry_run: bool, batch_size: int) -> None:
    """Remove every row past its INT's retention period (the audit log: past
    PULSE_RETAIN_AUDIT_DAYS), in batches, then print the totals."""
    session = get_session()
    now = utcnow()
    audit_days = current_app.config["PULSE_RETAIN_AUDIT_DAYS"]
    targets = purging.due(session, now=now, audit_days=audit_days)
    session.rollback()  # counting opened a transaction; each batch has its own
    if dry_run:
        for target in targets:
            click.echo(_line(target.neighbourhood, target.kind, target.count))
        click.echo(f"Would remove {purging.totals(targets)} rows in all (dry run: nothing "
                   "removed).")
        return
    with click.progressbar(length=purging.totals(targets), label="Removing") as bar:
        report = purging.purge(session, now=now, audit_days=audit_days,
                               batch_size=batch_size, on_batch=bar.update)
    for (neighbourhood, kind), count in sorted(report.removed.items()):
        click.echo(_line(neighbourhood, kind, count))
    click.echo(f"Removed {report.total} rows in all.")


def init_app(app: Flask) -> None:
    app.cli.add_command(retention_cli)
