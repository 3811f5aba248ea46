"""The CNI runtime: a strict implementation of the runtime side of the CNI specification."""

from __future__ import annotations

from ctrnet.cni.config import (
    NetworkConfigList,
    PluginConfig,
    conflist_from_bytes,
    find,
    load_dir,
    load_file,
    scan_dir,
)

__all__ = [
    "NetworkConfigList",
    "PluginConfig",
    "conflist_from_bytes",
    "find",
    "load_dir",
    "load_file",
    "scan_dir",
]
