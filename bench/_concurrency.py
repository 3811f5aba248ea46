"""Scenario: N sandboxes set up all at once, and the same N one after another.

"At once" means N threads started together (for the CLI each thread runs its own ``ctrnet``
process, so N processes run at once). Throughput is N divided by the wall time of the whole
batch. Errors are counted, not raised, and the addresses are checked for duplicates; the batch
is then torn down the same way (all at once, or one after another) and checked for leaks.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _variants import Handle, Variant

__all__ = ["run_concurrency"]


def _short(msg: str) -> str:
    """At most ~1.5 kB of an error: its start and its end (where a traceback's exception is)."""
    return msg if len(msg) <= 1500 else msg[:300] + " ... " + msg[-1200:]


def _batch(
    fn: Callable[[Handle], None], handles: Sequence[Handle], at_once: bool
) -> tuple[float, list[Handle], list[str]]:
    """Apply ``fn`` to every handle; wall ms, the handles it succeeded for, error messages."""
    ok: list[Handle] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(h: Handle) -> None:
        try:
            fn(h)
        except Exception as exc:
            with lock:
                errors.append(_short(f"{h.netns}: {type(exc).__name__}: {exc}"))
        else:
            with lock:
                ok.append(h)

    if at_once:
        start = threading.Barrier(len(handles) + 1)

        def gated(h: Handle) -> None:
            start.wait()
            one(h)

        with ThreadPoolExecutor(max_workers=len(handles)) as pool:
            futures = [pool.submit(gated, h) for h in handles]
            t0 = time.perf_counter()
            start.wait()
            for f in futures:
                f.result()
            elapsed = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        for h in handles:
            one(h)
        elapsed = time.perf_counter() - t0
    return elapsed * 1000, ok, errors


def _one_run(v: Variant, n: int, at_once: bool) -> dict[str, Any]:
    handles = [v.new_handle() for _ in range(n)]
    up_ms, up, up_errors = _batch(v.setup, handles, at_once)
    ips = Counter(h.ip for h in up if h.ip)
    dups = sorted(ip for ip, c in ips.items() if c > 1)
    down_ms, down, down_errors = _batch(v.teardown, up, at_once)
    for h in down:
        v.done(h)
    for h in handles:  # failed setups and teardowns: take down what is left, untimed
        if h.container_id in v.live:
            try:
                v.teardown(h)
            except Exception as exc:
                down_errors.append(_short(f"{h.netns}: retry: {exc}"))
            else:
                v.done(h)
    what = f"{v.label} ({n} {'at once' if at_once else 'in turn'})"
    errors = up_errors + down_errors
    if errors:
        what += " after errors: " + " | ".join(errors[:5])
    v.leaks(handles).raise_if_any(what)
    return {
        "variant": v.key,
        "label": v.label,
        "n": n,
        "mode": "at once" if at_once else "in turn",
        "setup_ms": round(up_ms, 1),
        "setup_per_s": round(n / (up_ms / 1000), 2),
        "teardown_ms": round(down_ms, 1),
        "teardown_per_s": round(len(up) / (down_ms / 1000), 2) if up else 0.0,
        "errors": len(up_errors) + len(down_errors),
        "error_messages": up_errors + down_errors,
        "duplicate_ips": len(dups),
        "duplicates": dups,
        "addresses": len(ips),
    }


def run_concurrency(
    variants: Sequence[Variant],
    *,
    sizes: Sequence[int],
    rounds: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """For each N: every variant at once then in turn, repeated ``rounds`` times, interleaved."""
    runs: list[dict[str, Any]] = []
    for n in sizes:
        for r in range(rounds):
            for v in variants:
                for at_once in (True, False):
                    entry = _one_run(v, n, at_once)
                    entry["round"] = r
                    runs.append(entry)
                    log(
                        f"  concurrency: {v.key} N={n} {entry['mode']}: "
                        f"{entry['setup_per_s']:.1f}/s up, {entry['errors']} errors"
                    )
    return {"sizes": list(sizes), "rounds": rounds, "runs": _merge(runs, rounds)}


def _merge(runs: list[dict[str, Any]], rounds: int) -> list[dict[str, Any]]:
    """With several rounds, report the median round of each (variant, N, mode) by setup time."""
    if rounds <= 1:
        return runs
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for entry in runs:
        groups.setdefault((entry["variant"], entry["n"], entry["mode"]), []).append(entry)
    merged = []
    for group in groups.values():
        ordered = sorted(group, key=lambda e: e["setup_ms"])
        pick = dict(ordered[len(ordered) // 2])
        pick["errors"] = sum(e["errors"] for e in group)
        pick["duplicate_ips"] = sum(e["duplicate_ips"] for e in group)
        pick["all_rounds"] = [
            {k: e[k] for k in ("setup_ms", "teardown_ms", "errors")} for e in group
        ]
        merged.append(pick)
    return merged
