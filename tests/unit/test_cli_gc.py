"""The console script freezes its start-up objects out of the GC; callers of ``main`` are left alone."""

from __future__ import annotations

import subprocess
import sys


def _freeze_count_after(call: str) -> int:
    code = (
        "import gc, sys\n"
        "from ctrnet.cli import main\n"
        f"try:\n    {call}\nexcept SystemExit: pass\n"
        "sys.stderr.write(f'frozen={gc.get_freeze_count()}\\n')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "network", "ls", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Usage:" in out.stdout
    return int(out.stderr.rsplit("frozen=", 1)[1])


def test_a_caller_of_main_keeps_its_gc_state() -> None:
    assert _freeze_count_after("main(['network', 'ls', '--help'])") == 0


def test_the_console_entry_freezes_the_startup_objects() -> None:
    # argv=None is the console script's (and ``python -m ctrnet``'s) call: sys.argv is used
    assert _freeze_count_after("main()") > 1000
