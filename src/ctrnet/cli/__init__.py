"""The ``ctrnet`` command line. ``main`` answers ``--version`` before importing anything else, and
runs ``oci-hook EVENT`` (a runtime's hook call) without click; the objects of the start-up
imports are frozen out of the cyclic GC (they live as long as the process anyway)."""

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

    if argv is None:  # a process of its own: see _freeze_startup_objects
        _freeze_startup_objects()
    run(args)


def _freeze_startup_objects() -> None:
    """Move what the imports made (classes, functions, module dicts) out of the cyclic GC's reach.

    They live until the process ends, yet a fresh process would scan them again in its first
    collections and in the interpreter's final one (about 6-8 ms of a ``ctrnet setup`` here).
    (A cycle among them that turns into garbage later is not collected; none does in one
    command.) Only for the console script: a caller's process (tests, embedders) keeps its GC.
    """
    import gc

    gc.freeze()
