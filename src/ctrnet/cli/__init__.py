"""The ``ctrnet`` command line. ``main`` answers ``--version`` before importing anything else, and
runs ``oci-hook EVENT`` (a runtime's hook call) without click; the objects of the start-up
imports are frozen out of the cyclic GC (they live as long as the process anyway), and a
command's process ends without tearing the interpreter down (see :func:`_exit_without_teardown`).
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: the status the process ends with when it ends through ``_exit_now``
_STATUS = [1]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ctrnet`` console script and of ``python -m ctrnet``."""
    own_process = argv is None  # a caller's process (tests, embedders) keeps its exit and GC
    if own_process:
        _exit_without_teardown()
    try:
        _dispatch(list(sys.argv[1:] if argv is None else argv), own_process)
    except SystemExit as exc:
        _STATUS[0] = _status_of(exc.code)
        raise
    except BaseException:  # a traceback or an interrupt: Python reports it and exits its way
        atexit.unregister(_exit_now)
        raise
    _STATUS[0] = 0


def _dispatch(args: list[str], own_process: bool) -> None:
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

    if own_process:
        _freeze_startup_objects()
    run(args)


def _freeze_startup_objects() -> None:
    """Move what the imports made (classes, functions, module dicts) out of the cyclic GC's reach.

    They live until the process ends, yet a fresh process would scan them again in its first
    collections (a few ms of a ``ctrnet setup`` here). A cycle among them that turns into
    garbage later is not collected; none does in one command.
    """
    import gc

    gc.freeze()


def _exit_without_teardown() -> None:
    """End the process right after the exit handlers, skipping the interpreter's teardown.

    Registered first, ``_exit_now`` runs after every other exit handler and after Python has
    joined the threads that are not daemons; what it skips is the deallocation of every module
    and object (about 7 ms of a ``ctrnet setup`` here), which has nothing left to do: files are
    closed by the code that wrote them, locks die with the process.
    """
    atexit.register(_exit_now)


def _exit_now() -> None:
    status = _STATUS[0]
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # e.g. a closed pipe: what Python's own exit reports as 120
            status = status or 120
    os._exit(status)


def _status_of(code: object) -> int:
    """The exit status ``SystemExit(code)`` gives (Python prints a non-integer code first)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1
