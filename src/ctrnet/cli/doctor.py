"""``ctrnet doctor``: check the host and say how to fix what is missing."""

from __future__ import annotations

import click

from ctrnet.cli._app import set_exit_code, state
from ctrnet.cli._output import FORMAT_OPTION, echo_json, echo_table


@click.command()
@FORMAT_OPTION
def doctor(fmt: str) -> None:
    """Check plugins, firewall tools, privileges, directories and the default subnet.

    Exits 1 if any check fails; warnings are printed but do not fail.
    """
    from ctrnet.runtime.doctor import run_checks

    checks = run_checks(state().settings)
    failed = [c for c in checks if c.status == "fail"]
    if fmt == "json":
        echo_json({"ok": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        echo_table(
            ["CHECK", "STATUS", "DETAIL"], [(c.name, c.status.upper(), c.detail) for c in checks]
        )
        fixes = [c for c in checks if c.status != "ok" and c.fix]
        if fixes:
            click.echo("")
            for c in fixes:
                click.echo(f"{c.name}: {c.fix}")
        click.echo("")
        click.echo(f"{len(failed)} check(s) failed" if failed else "ctrnet can run on this host")
    if failed:
        set_exit_code(1)
