"""The SPEC error object a plugin prints on failure, and its well-known codes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ctrnet.cni.spec._fields import Reader, load_object

__all__ = ["ErrorCode", "ErrorObject", "parse_error"]


class ErrorCode(IntEnum):
    """Codes 0-99 are reserved by the SPEC; 100+ belong to plugins."""

    UNKNOWN = 0
    INCOMPATIBLE_CNI_VERSION = 1
    UNSUPPORTED_FIELD = 2
    UNKNOWN_CONTAINER = 3
    INVALID_ENVIRONMENT_VARIABLES = 4
    IO_FAILURE = 5
    DECODING_FAILURE = 6
    INVALID_NETWORK_CONFIG = 7
    INVALID_NETNS = 8
    TRY_AGAIN_LATER = 11
    PLUGIN_NOT_AVAILABLE = 50
    PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY = 51
    INTERNAL = 999


@dataclass(frozen=True, slots=True)
class ErrorObject:
    """``{"cniVersion"?, "code", "msg", "details"?}``; ``str()`` is ``msg; details`` like libcni."""

    code: int
    msg: str
    details: str = ""
    cni_version: str = ""

    @property
    def known_code(self) -> ErrorCode | None:
        """The code as an :class:`ErrorCode`, or None for plugin-specific codes."""
        try:
            return ErrorCode(self.code)
        except ValueError:
            return None

    @property
    def transient(self) -> bool:
        """The plugin asked to be retried later (code 11)."""
        return self.code == ErrorCode.TRY_AGAIN_LATER

    def __str__(self) -> str:
        return f"{self.msg}; {self.details}" if self.details else self.msg

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cni_version:
            out["cniVersion"] = self.cni_version
        out["code"] = self.code
        out["msg"] = self.msg
        if self.details:
            out["details"] = self.details
        return out

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()


def parse_error(data: Mapping[str, Any] | bytes | str) -> ErrorObject:
    """Decode a plugin's error reply: ``code`` must be a non-negative integer (missing means 0,
    as in libcni), ``msg`` and ``details`` strings. Raises :class:`InvalidResult` naming the field.
    """
    what = "CNI error reply"
    r = Reader(load_object(data, what=what), "", what)
    code = r.integer("code", maximum=2**63 - 1)
    return ErrorObject(code or 0, r.text("msg"), r.text("details"), r.text("cniVersion"))
