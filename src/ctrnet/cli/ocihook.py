"""``ctrnet oci-hook``: the OCI hook entry point, and ``--print-hooks`` to set a config up.

runc calls ``ctrnet oci-hook createRuntime`` / ``poststop`` with the OCI state on stdin;
``ctrnet oci-hook --print-hooks --id ID [network flags]`` prints the JSON fragment (hooks,
annotations, mounts) for the bundle's config.json; ``--merge BUNDLE`` writes it in.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ctrnet.cli._app import state
from ctrnet.cli._hookentry import EVENTS, run_hook
from ctrnet.cli._netflags import network_flags


@click.command("oci-hook")
@network_flags
@click.option("--print-hooks", is_flag=True, help="Print the config.json fragment for the hooks.")
@click.option(
    "--merge",
    "merge_bundle",
    type=click.Path(file_okay=False),
    default=None,
    metavar="BUNDLE",
    help="Merge the hooks, annotations and mounts into BUNDLE/config.json (atomically; the "
    "bundle's other settings are kept).",
)
@click.option("--id", "sandbox_id", default=None, help="Sandbox ID for --print-hooks/--merge.")
@click.option("--name", default=None, help="Sandbox name for --print-hooks/--merge.")
@click.argument("event", required=False)
def oci_hook(
    network_options: Any,
    print_hooks: bool,
    merge_bundle: str | None,
    sandbox_id: str | None,
    name: str | None,
    event: str | None,
) -> None:
    """Run as an OCI hook (EVENT: createRuntime or poststop), or set a bundle up for the hooks:
    --print-hooks prints the config.json fragment, --merge BUNDLE writes it into the bundle."""
    from ctrnet._errors import ValidationError

    settings = state().settings
    if print_hooks or merge_bundle:
        flag = "--merge" if merge_bundle else "--print-hooks"
        if not sandbox_id:
            raise ValidationError(f"{flag} needs --id ID (the container's ID)", option="--id")
        from ctrnet.runtime.ocihook import hook_fragment

        if merge_bundle:
            from ctrnet.runtime import hookmerge

            config = hookmerge.check_bundle(merge_bundle)  # before anything is written
            opts = hookmerge.with_bundle_hostname(config, network_options)
            fragment = hook_fragment(settings, sandbox_id, opts, name=name)
            hostname = opts.hostname if opts.uts != "host" else ""
            merged = hookmerge.merge_fragment_into(config, fragment, hostname=hostname)
            written = hookmerge.write_merged(merge_bundle, merged)
            click.echo(f"ctrnet hooks for {sandbox_id} merged into {written}", err=True)
        else:
            fragment = hook_fragment(settings, sandbox_id, network_options, name=name)
        if print_hooks:
            from ctrnet.cli._output import echo_json

            echo_json(fragment)
        return
    kind = EVENTS.get((event or "").lower())
    if kind is None:
        raise ValidationError(
            f"unknown hook event {event!r}; use createRuntime or poststop (or --print-hooks)",
            option="event",
            value=event,
        )
    run_hook(kind, settings, sys.stdin.buffer)
