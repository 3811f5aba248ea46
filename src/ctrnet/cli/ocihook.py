"""``ctrnet oci-hook``: the OCI hook entry point, and ``--print-hooks`` to set a config up.

runc calls ``ctrnet oci-hook createRuntime`` / ``poststop`` with the OCI state on stdin;
``ctrnet oci-hook --print-hooks --id ID [network flags]`` prints the JSON fragment (hooks,
annotations, mounts) to merge into the bundle's config.json.
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
@click.option("--id", "sandbox_id", default=None, help="Sandbox ID for --print-hooks.")
@click.option("--name", default=None, help="Sandbox name for --print-hooks.")
@click.argument("event", required=False)
def oci_hook(
    network_options: Any,
    print_hooks: bool,
    sandbox_id: str | None,
    name: str | None,
    event: str | None,
) -> None:
    """Run as an OCI hook (EVENT: createRuntime or poststop), or --print-hooks."""
    from ctrnet._errors import ValidationError

    settings = state().settings
    if print_hooks:
        if not sandbox_id:
            raise ValidationError("--print-hooks needs --id ID (the container's ID)", option="--id")
        from ctrnet.cli._output import echo_json
        from ctrnet.runtime.ocihook import hook_fragment

        echo_json(hook_fragment(settings, sandbox_id, network_options, name=name))
        return
    kind = EVENTS.get((event or "").lower())
    if kind is None:
        raise ValidationError(
            f"unknown hook event {event!r}; use createRuntime or poststop (or --print-hooks)",
            option="event",
            value=event,
        )
    run_hook(kind, settings, sys.stdin.buffer)
