"""``ctrnet gc [--dry-run] [--format json]``: reclaim what crashed or vanished sandboxes left."""

from __future__ import annotations

import click

from ctrnet.cli._app import set_exit_code, state
from ctrnet.cli._output import FORMAT_OPTION, echo_json, echo_table

__all__ = ["gc"]


@click.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be reclaimed; change nothing.")
@FORMAT_OPTION
def gc(dry_run: bool, fmt: str) -> None:
    """Reclaim stale sandboxes, CNI cache entries, leases, rules, namespaces and bridges.

    Only what ctrnet can attribute to one of its sandboxes is touched. Waits for running setups
    and teardowns to finish, and blocks new ones while it runs. Exits 1 if anything failed.
    """
    from ctrnet.manager.gc import collect_garbage

    report = collect_garbage(state().settings, dry_run=dry_run)
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        verb = "would reclaim" if dry_run else "reclaimed"
        if report.reclaimed:
            echo_table(
                ["KIND", "NAME", "WHY"],
                [(r.kind, r.name, r.detail) for r in report.reclaimed],
            )
        else:
            click.echo(f"nothing to reclaim{' (dry run)' if dry_run else ''}")
        for note in report.notes:
            click.echo(f"note: {note}")
        for error in report.errors:
            click.echo(f"Error: {error}", err=True)
        if report.reclaimed:
            click.echo(f"{verb} {len(report.reclaimed)} item(s)")
    if report.errors:
        set_exit_code(1)
