"""The ``ctrnet`` command line. ``main`` answers ``--version`` before importing anything else, and
runs ``oci-hook EVENT`` (a runtime's hook call) without click."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ctrnet`` console script and of ``python -m ctrnet``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"] or args == ["version"]:
        from ctrnet._version import __version__

        sys.stdout.write(f"ctrnet version {__version__}\n")
        return
    if len(args) == 2 and args[0] == "oci-hook":  # runc's call: no click, only what hooks use
        from ctrnet.cli import _hookentry

        event = _hookentry.hook_event(args)
        if event is not None:
            sys.exit(_hookentry.main(event))
    from ctrnet.cli._app import run

    run(args)
