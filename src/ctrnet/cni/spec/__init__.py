"""CNI wire types: results of every SPEC version, their conversions, errors and VERSION replies.

``Result`` is the 1.0.0/1.1.0 model that everything above ``cni/`` uses; ``Result040`` and
``Result020`` hold older results. Parsing is strict: malformed input raises
:class:`ctrnet.InvalidConfig` (an :class:`~ctrnet._errors.InvalidResult` naming the field) or
:class:`ctrnet.IncompatibleVersion`, never a bare ``KeyError`` or ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctrnet.cni.spec._common import DNS, BasicRoute
from ctrnet.cni.spec._convert import RESULT_CLASSES, AnyResult, convert
from ctrnet.cni.spec._fields import load_object
from ctrnet.cni.spec.error_object import ErrorCode, ErrorObject, parse_error
from ctrnet.cni.spec.gc import GC_ATTACHMENT_KEYS, GCAttachment, attachments_payload
from ctrnet.cni.spec.v020 import IPConfig as IPConfig020
from ctrnet.cni.spec.v020 import Result as Result020
from ctrnet.cni.spec.v040 import Interface as Interface040
from ctrnet.cni.spec.v040 import IPConfig as IPConfig040
from ctrnet.cni.spec.v040 import Result as Result040
from ctrnet.cni.spec.v100 import Interface, IPConfig, Result, Route
from ctrnet.cni.spec.version import (
    CURRENT_VERSION,
    SUPPORTED_VERSIONS,
    VersionInfo,
    check_supported,
    highest_common,
    parse_version,
    parse_version_reply,
)

__all__ = [
    "CURRENT_VERSION",
    "DNS",
    "GC_ATTACHMENT_KEYS",
    "SUPPORTED_VERSIONS",
    "AnyResult",
    "BasicRoute",
    "ErrorCode",
    "ErrorObject",
    "GCAttachment",
    "IPConfig",
    "IPConfig020",
    "IPConfig040",
    "Interface",
    "Interface040",
    "Result",
    "Result020",
    "Result040",
    "Route",
    "VersionInfo",
    "attachments_payload",
    "check_supported",
    "convert",
    "highest_common",
    "parse_error",
    "parse_result",
    "parse_version",
    "parse_version_reply",
    "to_current",
]


def parse_result(data: bytes | str | Mapping[str, Any], version: str | None = None) -> AnyResult:
    """Parse a plugin's result (JSON bytes/str or a decoded mapping) into its version's model.

    The data's own ``cniVersion`` decides the model; *version* is used only when the data has
    none (libcni's ``fixupResultVersion``: pass the config's version), and "" or nothing means
    0.1.0. Raises :class:`InvalidResult` for malformed data and :class:`IncompatibleVersion` for a
    version ctrnet does not speak.
    """
    obj = load_object(data, what="CNI result")
    raw = obj.get("cniVersion")
    if raw is None or raw == "":
        v = version or "0.1.0"
    elif isinstance(raw, str):
        v = raw
    else:
        from ctrnet._errors import InvalidResult

        raise InvalidResult(f"must be a string, got {type(raw).__name__}", field="cniVersion")
    cls = RESULT_CLASSES.get(v)
    if cls is None:
        check_supported(v, "CNI result")
        raise AssertionError("unreachable")  # pragma: no cover
    return cls.from_dict(obj, v)


def to_current(result: AnyResult) -> Result:
    """*result* as the 1.x :class:`Result` callers above ``cni/`` use (1.1.0 results stay 1.1.0)."""
    if isinstance(result, Result):
        return result
    out = convert(result, "1.0.0")
    assert isinstance(out, Result)
    return out
