"""The OCI hook's own entry: ``ctrnet oci-hook createRuntime|poststop`` without click.

A runtime runs the hook at every container start and stop, so ``main`` takes this path (as it
does for ``--version``) when the arguments are exactly ``oci-hook EVENT``: settings come from the
environment (which is all a hook gets), errors print as ``Error: ...`` with their exit code, as
the click path does. With global flags (``ctrnet --data-root D oci-hook poststop``) the click
command runs the same :func:`run_hook`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import BinaryIO

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings

__all__ = ["EVENTS", "hook_event", "main", "run_hook"]

#: event names as given (any case) -> the OCI hook they are
EVENTS = {"createruntime": "createRuntime", "poststop": "poststop"}


def hook_event(args: Sequence[str]) -> str | None:
    """The event if ``args`` is exactly a hook call (``oci-hook EVENT``), else ``None``."""
    if len(args) == 2 and args[0] == "oci-hook":
        return EVENTS.get(args[1].lower())
    return None


def run_hook(event: str, settings: Settings, stdin: BinaryIO) -> None:
    """Read the OCI state from ``stdin`` and set up (createRuntime) or tear down (poststop)."""
    from ctrnet.runtime import ocihook

    oci_state = ocihook.parse_state(stdin.read())
    if event == "createRuntime":
        ocihook.create_runtime(settings, oci_state)
    else:
        for warning in ocihook.poststop(settings, oci_state):
            sys.stderr.write(f"Warning: {warning}\n")


def main(event: str) -> int:
    """Run hook ``event`` with settings from the environment; the process's exit code."""
    try:
        run_hook(event, Settings.from_env(), sys.stdin.buffer)
    except CtrnetError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return exc.exit_code
    return 0
