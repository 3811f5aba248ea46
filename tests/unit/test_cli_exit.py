"""How a ``ctrnet`` process ends: it skips the interpreter's teardown, and nothing else.

Each case runs the real entry point in a fresh interpreter with ``ctrnet.cli._app.run``
replaced by a command that does what the case needs, its standard output block-buffered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


def _ctrnet_with(body: str) -> subprocess.CompletedProcess[str]:
    """Run ``main()`` as the console script does, with ``body`` as the command."""
    script = textwrap.dedent(
        """
        import atexit, os, sys, threading, time
        import ctrnet.cli._app as app

        def command(args):
        {body}

        app.run = command
        sys.argv = ["ctrnet", "anything"]
        from ctrnet.cli import main
        main()
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # block-buffered
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_all_output_arrives_and_the_exit_status_is_kept() -> None:
    proc = _ctrnet_with(
        """
        sys.stdout.write("x" * 300_000)  # more than a pipe holds: flushed at exit
        sys.stderr.write("warning\\n")
        sys.exit(3)
        """
    )
    assert proc.returncode == 3
    assert proc.stdout == "x" * 300_000
    assert proc.stderr == "warning\n"


def test_exit_handlers_run_and_threads_are_joined_before_the_process_ends() -> None:
    proc = _ctrnet_with(
        """
        atexit.register(lambda: print("handler ran", flush=True))
        def late():
            time.sleep(0.2)
            print("thread finished", flush=True)
        threading.Thread(target=late).start()
        """
    )
    assert proc.returncode == 0
    assert proc.stdout == "thread finished\nhandler ran\n"


def test_the_interpreter_teardown_is_skipped() -> None:
    # an object's finalizer that would run in the teardown does not: the teardown did not happen
    proc = _ctrnet_with(
        """
        class Noisy:
            def __del__(self):
                os.write(1, b"torn down")
        app.keep = Noisy()
        """
    )
    assert proc.returncode == 0
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("body", "status", "stderr"),
    [
        ("raise RuntimeError('boom')", 1, "RuntimeError: boom"),
        ("sys.exit('fatal: no way')", 1, "fatal: no way"),
        ("raise KeyboardInterrupt", -2, "KeyboardInterrupt"),
    ],
)
def test_errors_end_the_process_as_python_ends_it(body: str, status: int, stderr: str) -> None:
    proc = _ctrnet_with(body)
    assert proc.returncode == status
    assert stderr in proc.stderr


def test_a_command_that_cannot_flush_its_output_ends_with_status_120() -> None:
    proc = _ctrnet_with(
        """
        sys.stdout.write("lost")
        os.close(1)
        """
    )
    assert proc.returncode == 120
