"""The floor: a conflist's plugins executed by hand, with no runtime library in between.

ADD runs the plugins in order, handing each one the previous result as ``prevResult``; DEL runs
them in reverse with the ADD result as ``prevResult`` (what libcni passes from its cache). No
cache file, no locks, no validation: whatever ctrnet costs beyond this is its overhead.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from _host import BenchError

__all__ = ["DirectChain"]


class DirectChain:
    """Exec the plugins of one conflist (a parsed JSON object) straight from ``cni_path``."""

    def __init__(self, conflist: Mapping[str, Any], cni_path: Sequence[str]) -> None:
        self.conflist = conflist
        self.cni_path = list(cni_path)
        self._binaries = [self._find(str(p["type"])) for p in conflist["plugins"]]
        self._base_env = dict(os.environ)
        self._base_env["CNI_PATH"] = os.pathsep.join(self.cni_path)

    def _find(self, plugin: str) -> str:
        for d in self.cni_path:
            path = os.path.join(d, plugin)
            if os.access(path, os.X_OK):
                return path
        raise BenchError(f"CNI plugin {plugin!r} not found in {self.cni_path}")

    def _request(
        self, plugin: Mapping[str, Any], capability_args: Mapping[str, Any], prev: Any
    ) -> bytes:
        conf = dict(plugin)
        conf["name"] = self.conflist["name"]
        conf["cniVersion"] = self.conflist["cniVersion"]
        caps = plugin.get("capabilities") or {}
        runtime = {k: v for k, v in capability_args.items() if caps.get(k)}
        if runtime:
            conf["runtimeConfig"] = runtime
        if prev is not None:
            conf["prevResult"] = prev
        return json.dumps(conf).encode()

    def _exec(self, binary: str, command: str, env: dict[str, str], stdin: bytes) -> bytes:
        env = {**env, "CNI_COMMAND": command}
        proc = subprocess.run([binary], input=stdin, env=env, capture_output=True, check=False)
        if proc.returncode != 0:
            raise BenchError(
                f"{os.path.basename(binary)} {command} failed ({proc.returncode}): "
                f"{proc.stdout.decode(errors='replace')} {proc.stderr.decode(errors='replace')}"
            )
        return proc.stdout

    def _env(self, container_id: str, netns: str, ifname: str) -> dict[str, str]:
        return {
            **self._base_env,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": netns,
            "CNI_IFNAME": ifname,
            "CNI_ARGS": "IgnoreUnknown=1",
        }

    def add(
        self,
        container_id: str,
        netns: str,
        capability_args: Mapping[str, Any],
        ifname: str = "eth0",
    ) -> dict[str, Any]:
        """ADD every plugin in order; returns the last plugin's result."""
        env = self._env(container_id, netns, ifname)
        prev: Any = None
        for plugin, binary in zip(self.conflist["plugins"], self._binaries, strict=True):
            out = self._exec(binary, "ADD", env, self._request(plugin, capability_args, prev))
            prev = json.loads(out)
        assert isinstance(prev, dict)
        return prev

    def delete(
        self,
        container_id: str,
        netns: str,
        capability_args: Mapping[str, Any],
        result: Mapping[str, Any] | None,
        ifname: str = "eth0",
    ) -> None:
        """DEL every plugin in reverse order, each given the ADD result as prevResult."""
        env = self._env(container_id, netns, ifname)
        pairs = list(zip(self.conflist["plugins"], self._binaries, strict=True))
        for plugin, binary in reversed(pairs):
            self._exec(binary, "DEL", env, self._request(plugin, capability_args, result))
