"""The CNI runtime: a strict implementation of the runtime side of the CNI specification."""

from __future__ import annotations

from ctrnet.cni.cache import CachedAttachment
from ctrnet.cni.config import (
    NetworkConfigList,
    PluginConfig,
    conflist_from_bytes,
    find,
    load_dir,
    load_file,
    scan_dir,
)
from ctrnet.cni.exec import Completed, Exec, SubprocessExec
from ctrnet.cni.runtime import CNI, RuntimeConf
from ctrnet.cni.spec.gc import GCAttachment

__all__ = [
    "CNI",
    "CachedAttachment",
    "Completed",
    "Exec",
    "GCAttachment",
    "NetworkConfigList",
    "PluginConfig",
    "RuntimeConf",
    "SubprocessExec",
    "conflist_from_bytes",
    "find",
    "load_dir",
    "load_file",
    "scan_dir",
]
