"""JSON as Go's ``encoding/json`` marshals decoded JSON (maps): what libcni writes to disk.

Compact, map keys sorted, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and numbers as Go prints
a float64 (``1.0`` is ``1``). Used for the result cache and for upconverted ``.conf`` bytes, so
files ctrnet writes match libcni's byte for byte.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps"]

_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def _go_numbers(value: Any) -> Any:
    """Integral floats in Go's fixed-notation range become ints (Go prints ``1``, not ``1.0``)."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_go_numbers(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes it after ``json.Unmarshal`` into ``any``."""
    text = json.dumps(_go_numbers(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for raw, esc in _ESCAPES:
        text = text.replace(raw, esc)
    return text
