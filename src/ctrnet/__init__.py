"""ctrnet: container networking on CNI, as a library and a CLI.

Public names are loaded on first use, so ``import ctrnet`` stays cheap for the CLI and OCI hooks::

    from ctrnet import NetworkManager, NetworkOptions, Settings

    mgr = NetworkManager(Settings.from_env())
    sandbox = mgr.setup("web1", NetworkOptions(networks=("bridge",)))
    mgr.cleanup("web1")
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
        HcnError,
        IncompatibleVersion,
        InvalidConfig,
        InvalidResult,
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
        StorageError,
        SubnetConflict,
        SystemError_,
        UnsupportedOption,
        ValidationError,
        VersionError,
    )
    from ctrnet._settings import Settings
    from ctrnet.cni import (
        CNI,
        CachedAttachment,
        GCAttachment,
        NetworkConfigList,
        PluginConfig,
        RuntimeConf,
    )
    from ctrnet.manager import (
        ExtraHost,
        NetworkManager,
        NetworkOptions,
        PortMapping,
        Sandbox,
        SandboxNetwork,
    )
    from ctrnet.networks import Network, NetworkCreateOptions, NetworkStore

_ERRORS = (
    "AmbiguousReference",
    "ConfigError",
    "ConfigNotFound",
    "ConflictError",
    "CtrnetError",
    "HcnError",
    "IncompatibleVersion",
    "InvalidConfig",
    "InvalidResult",
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
    "StorageError",
    "SubnetConflict",
    "SystemError_",
    "UnsupportedOption",
    "ValidationError",
    "VersionError",
)

#: public name -> module that defines it (imported lazily by ``__getattr__``); the error tree and
#: Settings load on first use too, so importing the package costs no ``dataclasses``/``typing``
_LAZY: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "ctrnet._errors"),
    "Settings": "ctrnet._settings",
    **dict.fromkeys(
        (
            "CNI",
            "CachedAttachment",
            "GCAttachment",
            "NetworkConfigList",
            "PluginConfig",
            "RuntimeConf",
        ),
        "ctrnet.cni",
    ),
    **dict.fromkeys(("Network", "NetworkCreateOptions", "NetworkStore"), "ctrnet.networks"),
    **dict.fromkeys(
        (
            "ExtraHost",
            "NetworkManager",
            "NetworkOptions",
            "PortMapping",
            "Sandbox",
            "SandboxNetwork",
        ),
        "ctrnet.manager",
    ),
}

__all__ = [
    "CNI",
    "AmbiguousReference",
    "CachedAttachment",
    "ConfigError",
    "ConfigNotFound",
    "ConflictError",
    "CtrnetError",
    "ExtraHost",
    "GCAttachment",
    "HcnError",
    "IncompatibleVersion",
    "InvalidConfig",
    "InvalidResult",
    "MultipleErrors",
    "Network",
    "NetworkConfigList",
    "NetworkCreateOptions",
    "NetworkExists",
    "NetworkInUse",
    "NetworkManager",
    "NetworkNotFound",
    "NetworkOptions",
    "NetworkStore",
    "NotFoundError",
    "OperationNotSupported",
    "PermissionDenied",
    "PluginConfig",
    "PluginError",
    "PluginExecError",
    "PluginNotFound",
    "PluginTimeout",
    "PortMapping",
    "RuntimeConf",
    "Sandbox",
    "SandboxExists",
    "SandboxNetwork",
    "SandboxNotFound",
    "Settings",
    "StorageError",
    "SubnetConflict",
    "SystemError_",
    "UnsupportedOption",
    "ValidationError",
    "VersionError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ctrnet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
