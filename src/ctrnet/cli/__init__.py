"""The ``ctrnet`` command line. ``main`` answers ``--version`` before importing anything else."""

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
    from ctrnet.cli._app import run

    run(args)
