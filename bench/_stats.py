"""Summaries of timing samples: median, p90, ratios."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Summary", "ratio", "summarize"]


@dataclass(frozen=True)
class Summary:
    """Milliseconds: median, 90th percentile (nearest rank), min, max over ``n`` samples."""

    n: int
    median: float
    p90: float
    min: float
    max: float
    samples: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "median_ms": round(self.median, 2),
            "p90_ms": round(self.p90, 2),
            "min_ms": round(self.min, 2),
            "max_ms": round(self.max, 2),
            "samples_ms": [round(s, 2) for s in self.samples],
        }


def summarize(samples_ms: Sequence[float]) -> Summary | None:
    """The summary of ``samples_ms``, or ``None`` when there are none."""
    if not samples_ms:
        return None
    ordered = sorted(samples_ms)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return Summary(
        n=len(ordered),
        median=statistics.median(ordered),
        p90=ordered[rank - 1],
        min=ordered[0],
        max=ordered[-1],
        samples=tuple(samples_ms),
    )


def ratio(value: Summary | None, base: Summary | None) -> float | None:
    """``value.median / base.median``, or ``None`` when either is missing."""
    if value is None or base is None or base.median <= 0:
        return None
    return value.median / base.median
