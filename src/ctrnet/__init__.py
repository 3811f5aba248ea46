"""ctrnet: container networking on CNI, as a library and a CLI.

Public names are loaded on first use, so ``import ctrnet`` stays cheap for the CLI and OCI hooks.
"""

from __future__ import annotations

import importlib
from typing import Any

from ctrnet._errors import (
    AmbiguousReference,
    ConfigError,
    ConfigNotFound,
    ConflictError,
    CtrnetError,
    IncompatibleVersion,
    InvalidConfig,
    MultipleErrors,
    NetworkExists,
    NetworkInUse,
    NetworkNotFound,
    NotFoundError,
    OperationNotSupported,
    PermissionDenied,
    PluginError,
    PluginExecError,
    PluginNotFound,
    PluginTimeout,
    SandboxExists,
    SandboxNotFound,
    SubnetConflict,
    SystemError_,
    UnsupportedOption,
    ValidationError,
    VersionError,
)
from ctrnet._settings import Settings
from ctrnet._version import __version__

#: public name -> module that defines it (imported lazily by ``__getattr__``)
_LAZY: dict[str, str] = {
    "NetworkManager": "ctrnet.manager",
    "NetworkOptions": "ctrnet.manager",
    "PortMapping": "ctrnet.manager",
    "ExtraHost": "ctrnet.manager",
    "Sandbox": "ctrnet.manager",
    "SandboxNetwork": "ctrnet.manager",
}

__all__ = [
    "AmbiguousReference",
    "ConfigError",
    "ConfigNotFound",
    "ConflictError",
    "CtrnetError",
    "IncompatibleVersion",
    "InvalidConfig",
    "MultipleErrors",
    "NetworkExists",
    "NetworkInUse",
    "NetworkNotFound",
    "NotFoundError",
    "OperationNotSupported",
    "PermissionDenied",
    "PluginError",
    "PluginExecError",
    "PluginNotFound",
    "PluginTimeout",
    "SandboxExists",
    "SandboxNotFound",
    "Settings",
    "SubnetConflict",
    "SystemError_",
    "UnsupportedOption",
    "ValidationError",
    "VersionError",
    "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ctrnet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
