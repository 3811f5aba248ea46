"""Scenario: one sandbox up and down, every variant in turn, round after round (interleaved).

Round r runs A, B, C, D; round r+1 runs A, B, C, D again, so a load change on the shared machine
hits every variant alike. The first ``warmup`` rounds are not counted (they also create the
bridges and check that each variant really works). After every sandbox the variant's leak check
runs (untimed) and any leftover aborts the run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from _stats import Summary, ratio, summarize
from _variants import Variant

__all__ = ["run_single"]


def run_single(
    variants: Sequence[Variant],
    *,
    rounds: int,
    warmup: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time setup and teardown of one sandbox per variant per round; returns the figures."""
    setup: dict[str, list[float]] = {v.key: [] for v in variants}
    teardown: dict[str, list[float]] = {v.key: [] for v in variants}
    for r in range(warmup + rounds):
        counted = r >= warmup
        for v in variants:
            h = v.new_handle()
            t0 = time.perf_counter()
            v.setup(h)
            t1 = time.perf_counter()
            if not counted:
                try:
                    v.verify(h)
                except BaseException:
                    v.teardown(h)
                    v.done(h)
                    raise
            t2 = time.perf_counter()
            v.teardown(h)
            t3 = time.perf_counter()
            v.done(h)
            v.leaks([h]).raise_if_any(f"{v.label} (round {r})")
            if counted:
                setup[v.key].append((t1 - t0) * 1000)
                teardown[v.key].append((t3 - t2) * 1000)
        log(f"  single: round {r + 1}/{warmup + rounds} done" + ("" if counted else " (warm-up)"))
    return _figures(variants, setup, teardown)


def _figures(
    variants: Sequence[Variant],
    setup: dict[str, list[float]],
    teardown: dict[str, list[float]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for phase, data in (("setup", setup), ("teardown", teardown)):
        sums: dict[str, Summary | None] = {k: summarize(v) for k, v in data.items()}
        rows: dict[str, Any] = {}
        for v in variants:
            s = sums[v.key]
            rows[v.key] = {
                "label": v.label,
                **(s.to_dict() if s else {}),
                "x_direct": _round(ratio(s, sums.get("direct"))),
                "x_netavark": _round(ratio(s, sums.get("netavark"))),
                # median of the per-round ratios: cancels slow load drifts even better
                "x_direct_paired": _round(_paired(data.get(v.key), data.get("direct"))),
                "x_netavark_paired": _round(_paired(data.get(v.key), data.get("netavark"))),
            }
        out[phase] = rows
    return out


def _paired(values: list[float] | None, base: list[float] | None) -> float | None:
    if not values or not base or len(values) != len(base):
        return None
    return statistics.median(v / b for v, b in zip(values, base, strict=True) if b > 0)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
