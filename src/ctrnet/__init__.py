"""ctrnet: container networking on CNI, as a library and a CLI.

Public names are loaded on first use, so ``import ctrnet`` stays cheap for the CLI and OCI hooks.
"""

from __future__ import annotations

from ctrnet._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (``ctrnet --version``)
if TYPE_CHECKING:
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

#: error classes and Settings: loaded on first use like the rest, so that importing the package
#: (every ``ctrnet`` process) costs no ``dataclasses``/``typing`` import
_CORE: dict[str, str] = {
    **{
        name: "ctrnet._errors"
        for name in (
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
            "SubnetConflict",
            "SystemError_",
            "UnsupportedOption",
            "ValidationError",
            "VersionError",
        )
    },
    "Settings": "ctrnet._settings",
}

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
    module = _LAZY.get(name) or _CORE.get(name)
    if module is None:
        raise AttributeError(f"module 'ctrnet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
