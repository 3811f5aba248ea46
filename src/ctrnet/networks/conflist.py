"""The conflist document nerdctl writes, byte for byte: key order, 2-space indent, Go escaping."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ctrnet.networks._names import network_id

__all__ = ["CNI_VERSION", "DEFAULT_NETWORK_LABEL", "document", "render"]

#: the cniVersion nerdctl writes (and the newest the Debian plugins speak)
CNI_VERSION = "1.0.0"
#: the label that marks the default network (only the key's presence counts)
DEFAULT_NETWORK_LABEL = "nerdctl/default-network"

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def document(
    name: str, labels: Mapping[str, str], plugins: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The top-level object: cniVersion, name, nerdctlID, nerdctlLabels, plugins (in that order)."""
    return {
        "cniVersion": CNI_VERSION,
        "name": name,
        "nerdctlID": network_id(name),
        "nerdctlLabels": dict(labels),
        "plugins": [dict(p) for p in plugins],
    }


def render(doc: Mapping[str, Any]) -> bytes:
    """Serialise like Go's ``json.MarshalIndent(v, "", "  ")``: no trailing newline."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)
    return text.encode()
