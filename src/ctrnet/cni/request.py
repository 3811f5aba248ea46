"""The per-plugin request config: the plugin's own JSON plus what the runtime injects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ctrnet.cni.config import PluginConfig

__all__ = ["request_bytes", "runtime_config"]


def runtime_config(plugin: PluginConfig, capability_args: Mapping[str, Any]) -> dict[str, Any]:
    """``capabilities`` set to true in the config, intersected with the caller's capability args."""
    return {
        name: capability_args[name]
        for name, enabled in plugin.capabilities.items()
        if enabled is True and name in capability_args
    }


def request_bytes(
    plugin: PluginConfig,
    *,
    name: str,
    cni_version: str,
    prev_result: Mapping[str, Any] | None = None,
    capability_args: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """Stdin for one call: ``name``/``cniVersion`` overwritten, ``runtimeConfig`` and
    ``prevResult`` added when there are any, every other key passed through unchanged."""
    conf = dict(plugin.raw)
    conf["cniVersion"] = cni_version
    conf["name"] = name
    if capability_args:
        rc = runtime_config(plugin, capability_args)
        if rc:
            conf["runtimeConfig"] = rc
    if prev_result is not None:
        conf["prevResult"] = prev_result
    if extra:
        conf.update(extra)
    return json.dumps(conf, separators=(",", ":")).encode()
