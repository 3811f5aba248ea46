"""Scenario: cold start of short ctrnet commands, interleaved, with each child's peak RSS.

Every command runs as a fresh process (what a user or a container runtime pays each time).
Peak RSS is measured in separate runs: Linux carries the high-water RSS of the process that
forked a child into the child's ``ru_maxrss``, so the suite (tens of MiB) cannot fork the
command itself. A bare ``python -I -S`` (about as big as ``python -c pass``) forks it instead
and reports the child's ``ru_maxrss`` from ``wait4``; figures below that floor read as the floor.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _host import BenchError, Workspace
from _stats import summarize

__all__ = ["Command", "default_commands", "peak_rss_kib", "run_coldstart", "timed_run"]

VENV_BIN = Path(sys.executable).parent


@dataclass
class Command:
    """One measured command line; ``stdin`` is fed to it, ``env`` extends the environment."""

    key: str
    label: str
    argv: list[str]
    #: bytes, or a function that makes each run's stdin (called once per run)
    stdin: bytes | Callable[[], bytes] = b""
    env: dict[str, str] | None = None
    ok_codes: tuple[int, ...] = (0,)

    def input(self) -> bytes:
        return self.stdin() if callable(self.stdin) else self.stdin


def timed_run(cmd: Command) -> tuple[float, int, bytes]:
    """Run ``cmd`` once: wall milliseconds, peak RSS in KiB, stderr."""
    env = {**os.environ, **(cmd.env or {})}
    stdin = cmd.input()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd.argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - t0) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode not in cmd.ok_codes:
        raise BenchError(
            f"{' '.join(cmd.argv)} exited {proc.returncode}: {err.decode(errors='replace')[-400:]}"
        )
    return elapsed, int(usage.ru_maxrss), err


_RSS_PROBE = (
    "import os,sys\n"
    "pid=os.fork()\n"
    "if pid==0:\n"
    "    os.execv(sys.argv[1],sys.argv[1:])\n"
    "_,st,ru=os.wait4(pid,0)\n"
    "os.write(2,b'\\nrss_kib=%d exit=%d\\n'%(ru.ru_maxrss,os.waitstatus_to_exitcode(st)))\n"
)


def _has_hook() -> bool:
    try:
        import ctrnet.cli.ocihook  # noqa: F401
    except ImportError:
        return False
    return True


def peak_rss_kib(cmd: Command) -> int:
    """The peak RSS of one run of ``cmd``, forked by a minimal Python rather than by the suite."""
    probe = Command(cmd.key, cmd.label, [sys.executable, "-I", "-S", "-c", _RSS_PROBE, *cmd.argv])
    probe.stdin, probe.env, probe.ok_codes = cmd.stdin, cmd.env, cmd.ok_codes
    _ms, _kib, err = timed_run(probe)
    tail = err.decode(errors="replace").rsplit("rss_kib=", 1)
    if len(tail) != 2:
        raise BenchError(f"could not measure the RSS of {' '.join(cmd.argv)}: {err[-300:]!r}")
    kib, exit_part = tail[1].split()
    code = int(exit_part.removeprefix("exit="))
    if code not in cmd.ok_codes:
        raise BenchError(f"{' '.join(cmd.argv)} exited {code}: {tail[0][-400:]}")
    return int(kib)


#: Everything a ``ctrnet setup -p ...`` process imports (checked with ``python -X importtime``):
#: the CLI and manager modules, the Linux namespace backend (with ctypes) that the manager
#: imports on first use, and difflib, which click imports to parse any short option such as
#: ``-p`` (it tries the long options first and builds a "did you mean" list on the miss).
#: The console script freezes the GC's view of the objects that exist once ``ctrnet.cli._app`` is
#: imported and ends with ``os._exit`` after flushing its output (``ctrnet.cli.main``); this line
#: does the same at the same points, so that what is subtracted as start-up costs what the CLI's
#: start-up costs.
SETUP_IMPORTS = (
    "import gc, ctrnet.cli._app; gc.freeze(); "
    "import ctrnet.cli.sandbox, ctrnet.manager.manager, "
    "ctrnet.manager.modes_impl.cni, ctrnet.cni, ctrnet.networks, "
    "ctrnet.platform._netns_linux, difflib; "
    "import os, sys; sys.stdout.flush(); sys.stderr.flush(); os._exit(0)"
)


def default_commands() -> list[Command]:
    """Python's own start-up (the floor), ``ctrnet --version``, ``import ctrnet`` and the
    modules ``ctrnet setup`` imports."""
    return [
        Command("python", "python -c pass (floor)", [sys.executable, "-c", "pass"]),
        Command("version", "ctrnet --version", [str(VENV_BIN / "ctrnet"), "--version"]),
        Command("import", "python -c 'import ctrnet'", [sys.executable, "-c", "import ctrnet"]),
        # what `ctrnet setup` loads before it does anything: the CLI's start-up cost
        Command("setup-imports", "imports of ctrnet setup", [sys.executable, "-c", SETUP_IMPORTS]),
    ]


def run_coldstart(
    ws: Workspace,
    *,
    runs: int,
    commands: Sequence[Command] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Median/p90 wall time and peak RSS for each command over ``runs`` interleaved runs."""
    cmds = list(commands) if commands is not None else default_commands()
    hook = None
    if commands is None and _has_hook():
        from _hook import HookFixture

        hook = HookFixture(ws)
        cmds += hook.commands()
    times: dict[str, list[float]] = {c.key: [] for c in cmds}
    rss: dict[str, int] = {c.key: 0 for c in cmds}
    try:
        for c in cmds:  # one uncounted run each: page cache, bytecode caches
            timed_run(c)
        for _ in range(runs):
            for c in cmds:
                ms, _kib, _err = timed_run(c)
                times[c.key].append(ms)
        for _ in range(3):
            for c in cmds:
                rss[c.key] = max(rss[c.key], peak_rss_kib(c))
    finally:
        if hook is not None:
            left = hook.close()
            if left:
                raise BenchError("the OCI hook runs left: " + ", ".join(left[:10]))
    log(f"  coldstart: {runs} runs x {[c.key for c in cmds]} done")
    out = []
    for c in cmds:
        s = summarize(times[c.key])
        assert s is not None
        out.append(
            {
                "key": c.key,
                "label": c.label,
                "argv": c.argv,
                **s.to_dict(),
                "peak_rss_mib": round(rss[c.key] / 1024, 1),
            }
        )
    return {"runs": runs, "commands": out}
