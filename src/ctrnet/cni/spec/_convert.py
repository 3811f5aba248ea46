"""The conversion table, built once from the explicit list of result modules (no registry)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ctrnet._errors import IncompatibleVersion
from ctrnet.cni.spec import v020, v040, v100
from ctrnet.cni.spec.version import SUPPORTED_VERSIONS

AnyResult = v020.Result | v040.Result | v100.Result
Converter = Callable[[Any, str], Any]
Row = tuple[tuple[str, ...], tuple[str, ...], Converter]

MODULES = (v020, v040, v100)

RESULT_CLASSES: dict[str, type[AnyResult]] = {
    **dict.fromkeys(v020.SUPPORTED_VERSIONS, v020.Result),
    **dict.fromkeys(v040.SUPPORTED_VERSIONS, v040.Result),
    **dict.fromkeys(v100.SUPPORTED_VERSIONS, v100.Result),
}


def build_table(rows: Iterable[Row]) -> dict[tuple[str, str], Converter]:
    """``{(from, to): fn}``; a pair listed twice is a programming error."""
    table: dict[tuple[str, str], Converter] = {}
    for froms, tos, fn in rows:
        for a in froms:
            for b in tos:
                if (a, b) in table:
                    raise ValueError(f"duplicate CNI result converter for {a} -> {b}")
                table[a, b] = fn
    return table


TABLE = build_table(row for m in MODULES for row in m.CONVERTERS)


def convert(result: AnyResult, to_version: str) -> AnyResult:
    """*result* as a *to_version* result ("" means 0.1.0), following libcni's converters.

    The same version returns *result* itself. Raises :class:`IncompatibleVersion` for a version
    ctrnet does not know, and :class:`VersionError` for a lossy conversion that cannot be made
    (a result without addresses to 0.1.0/0.2.0).
    """
    to_version = to_version or "0.1.0"
    from_version = result.cni_version or "0.1.0"
    if from_version == to_version and to_version in RESULT_CLASSES:
        return result
    fn = TABLE.get((from_version, to_version))
    if fn is None:
        bad = to_version if to_version not in RESULT_CLASSES else from_version
        raise IncompatibleVersion(bad, SUPPORTED_VERSIONS, "CNI result conversion")
    out: AnyResult = fn(result, to_version)
    return out
