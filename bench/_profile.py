"""Scenario: where the ctrnet library spends a sandbox's setup and teardown beyond the plugins.

Runs the library variant one sandbox at a time with light instrumentation: the wall time inside
plugin execs (``SubprocessExec.run``, or ``start`` and the started plugin's ``finish``), inside ``os.fsync`` (atomic record/cache/file writes),
inside the namespace backend, and the rest (Python work, locks, file I/O without fsync). A
cProfile of the same calls lists the functions with the most time of their own.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from _variants import Variant

__all__ = ["run_profile"]


class _Meter:
    """Wraps callables so their wall time and call count add up under one key."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[Callable[[], None]] = []
        self._depth: dict[str, int] = {}

    def wrap(self, owner: Any, name: str, key: str, *, count: bool = True) -> None:
        """Time ``owner.name`` under ``key``; a call inside another of the same key (a plugin
        started while one runs) is not timed twice. ``count``: it counts as a call."""
        orig = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = self._depth.get(key, 0)
            self._depth[key] = depth + 1
            t0 = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                self._depth[key] = depth
                if depth == 0:
                    self.ms[key] = self.ms.get(key, 0.0) + (time.perf_counter() - t0) * 1000
                if count:
                    self.calls[key] = self.calls.get(key, 0) + 1

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, orig))

    def reset(self) -> None:
        self.ms.clear()
        self.calls.clear()

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


@contextmanager
def _instrumented() -> Iterator[_Meter]:
    from ctrnet.cni import exec as cni_exec
    from ctrnet.platform._netns_linux import NetnsBackend

    meter = _Meter()
    # a call is a run(), or a start() (maybe while another plugin runs) and its finish()
    meter.wrap(cni_exec.SubprocessExec, "run", "plugin exec")
    meter.wrap(cni_exec.SubprocessExec, "start", "plugin exec", count=False)
    for started in (cni_exec._Running, cni_exec._Deferred):
        meter.wrap(started, "finish", "plugin exec")
    meter.wrap(os, "fsync", "fsync")
    for name in ("create", "remove", "set_loopback_up"):
        meter.wrap(NetnsBackend, name, "namespace")
    try:
        yield meter
    finally:
        meter.restore()


def run_profile(
    ws: object, variants: Sequence[Variant], *, n: int = 10, log: Callable[[str], None] = print
) -> dict[str, Any] | None:
    """Breakdown of the library's setup and teardown per sandbox; ``None`` without it."""
    lib = next((v for v in variants if v.key == "library"), None)
    if lib is None:
        return None
    totals = {"setup": 0.0, "teardown": 0.0}
    parts: dict[str, dict[str, float]] = {"setup": {}, "teardown": {}}
    calls: dict[str, dict[str, int]] = {"setup": {}, "teardown": {}}
    prof = cProfile.Profile()
    with _instrumented() as meter:
        for _ in range(n):
            h = lib.new_handle()
            for phase, fn in (("setup", lib.setup), ("teardown", lib.teardown)):
                meter.reset()
                t0 = time.perf_counter()
                prof.enable()
                fn(h)
                prof.disable()
                totals[phase] += (time.perf_counter() - t0) * 1000
                for key, ms in meter.ms.items():
                    parts[phase][key] = parts[phase].get(key, 0.0) + ms
                for key, c in meter.calls.items():
                    calls[phase][key] = calls[phase].get(key, 0) + c
            lib.done(h)
            lib.leaks([h]).raise_if_any("library (profile)")
    breakdown: dict[str, float] = {}
    for phase in ("setup", "teardown"):
        total = totals[phase] / n
        known = 0.0
        breakdown[f"{phase}: total"] = round(total, 1)
        for key in ("plugin exec", "fsync", "namespace"):
            ms = parts[phase].get(key, 0.0) / n
            known += ms
            count = calls[phase].get(key, 0) / n
            breakdown[f"{phase}: {key} ({count:g} calls)"] = round(ms, 1)
        breakdown[f"{phase}: everything else"] = round(total - known, 1)
    log(f"  profile: {n} library sandboxes instrumented")
    return {"n": n, "breakdown_ms": breakdown, "top_own_time": _top(prof)}


def _top(prof: cProfile.Profile, limit: int = 12) -> list[str]:
    """The functions with the most time of their own (waits on plugins excluded)."""
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    rows = []
    for (file, line, func), (_cc, nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func in ("<method 'poll' of 'select.poll' objects>",):
            continue
        rows.append((tt, nc, f"{os.path.basename(file)}:{line}({func})"))
    rows.sort(reverse=True)
    return [f"{tt * 1000:8.1f} ms  {nc:6d} calls  {where}" for tt, nc, where in rows[:limit]]
