"""The attachment list of a GC request (SPEC 1.1.0)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["GC_ATTACHMENT_KEYS", "GCAttachment", "attachments_payload"]

GC_ATTACHMENT_KEYS: tuple[str, ...] = ("cni.dev/valid-attachments", "cni.dev/attachments")
"""HEAD SPEC's key and the spec-v1.1.0 tag's key; libcni sends both, and so do we."""


@dataclass(frozen=True, slots=True)
class GCAttachment:
    """An attachment that is still in use and that GC must keep."""

    container_id: str
    ifname: str

    def to_dict(self) -> dict[str, str]:
        return {"containerID": self.container_id, "ifname": self.ifname}


def attachments_payload(valid: Iterable[GCAttachment]) -> dict[str, Any]:
    """The keys to merge into a plugin config for GC: both attachment keys, same list."""
    items = [a.to_dict() for a in valid]
    return {key: list(items) for key in GC_ATTACHMENT_KEYS}
