"""Where ctrnet keeps things: one immutable value passed down instead of globals."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

__all__ = ["Settings"]

DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_CNI_PATH = ("/opt/cni/bin", "/usr/lib/cni")
DEFAULT_CACHE_DIR = "/var/lib/cni"
DEFAULT_DATA_ROOT = "/var/lib/ctrnet"
DEFAULT_NETNS_DIR = "/run/netns"
#: values of a boolean variable that mean "off"
_OFF = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Directories and defaults shared by every layer.

    ``from_env`` reads the same variables as nerdctl and cnitool (``NETCONFPATH``, ``CNI_PATH``,
    ``CNI_CACHEDIR``, ``CTRNET_DATA_ROOT``); explicit values win over the environment.
    """

    conf_dir: str = DEFAULT_CONF_DIR
    cni_path: tuple[str, ...] = DEFAULT_CNI_PATH
    cache_dir: str = DEFAULT_CACHE_DIR
    data_root: str = DEFAULT_DATA_ROOT
    netns_dir: str = DEFAULT_NETNS_DIR
    platform: str = "linux"
    plugin_timeout: float = 60.0
    #: subnet of the default network (``CTRNET_DEFAULT_SUBNET``)
    default_subnet: str = "10.4.0.0/24"
    #: bridge device of the default network (``CTRNET_DEFAULT_BRIDGE``)
    default_bridge: str = "nerdctl0"
    #: where automatic subnets come from (``CTRNET_SUBNET_POOL``, "base/size")
    subnet_pool: str = "10.4.1.0/16:24"
    #: start the next plugin of a chain while one runs (``CTRNET_PRESTART=0`` turns it off)
    prestart: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default ``os.environ``); ``None`` overrides are ignored."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if env.get("NETCONFPATH"):
            values["conf_dir"] = env["NETCONFPATH"]
        if env.get("CNI_PATH"):
            values["cni_path"] = tuple(p for p in env["CNI_PATH"].split(os.pathsep) if p)
        if env.get("CNI_CACHEDIR"):
            values["cache_dir"] = env["CNI_CACHEDIR"]
        if env.get("CTRNET_DATA_ROOT"):
            values["data_root"] = env["CTRNET_DATA_ROOT"]
        if env.get("CTRNET_NETNS_DIR"):
            values["netns_dir"] = env["CTRNET_NETNS_DIR"]
        if env.get("CTRNET_DEFAULT_SUBNET"):
            values["default_subnet"] = env["CTRNET_DEFAULT_SUBNET"]
        if env.get("CTRNET_DEFAULT_BRIDGE"):
            values["default_bridge"] = env["CTRNET_DEFAULT_BRIDGE"]
        if env.get("CTRNET_SUBNET_POOL"):
            values["subnet_pool"] = env["CTRNET_SUBNET_POOL"]
        if env.get("CTRNET_PLUGIN_TIMEOUT"):
            values["plugin_timeout"] = float(env["CTRNET_PLUGIN_TIMEOUT"])
        if env.get("CTRNET_PRESTART"):
            values["prestart"] = env["CTRNET_PRESTART"].strip().lower() not in _OFF
        for key, value in overrides.items():
            if value is None:
                continue
            if key == "cni_path":
                parts = value.split(os.pathsep) if isinstance(value, str) else list(value)  # type: ignore[call-overload]
                value = tuple(p for p in parts if p)
            values[key] = value
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
