"""The ctrnet variants: the library in-process, and the CLI as one process per call.

Both run against a network created by ctrnet's own store (``nerdctl-<name>.conflist``, the
default-network shape: bridge, portmap, firewall, tuning) in private conf/cache/data dirs.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _host import BenchError, Leaks
from _variants import CONTAINER_PORT, Handle, Variant
from ctrnet._settings import Settings
from ctrnet.manager.manager import NetworkManager
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.ports import parse_port
from ctrnet.networks import NetworkCreateOptions, NetworkStore

__all__ = ["CliVariant", "LibraryVariant", "create_network", "settings_for"]

CTRNET = str(Path(sys.executable).parent / "ctrnet")


def settings_for(v: Variant) -> Settings:
    """Settings pointing at the variant's private directories and the real plugins."""
    net = v.network
    return Settings(
        conf_dir=str(net.conf_dir),
        cni_path=("/usr/lib/cni",),
        cache_dir=str(net.cache_dir),
        data_root=str(net.data_root),
        default_bridge=f"{v.ws.prefix}z",
    )


def create_network(v: Variant) -> dict[str, Any]:
    """Create the variant's network with ctrnet's store; returns the conflist it wrote."""
    net = v.network
    store = NetworkStore(settings_for(v))
    created = store.create(
        NetworkCreateOptions(
            name=net.name,
            subnets=(str(net.subnet),),
            options={"com.docker.network.bridge.name": net.bridge},
        )
    )
    data = json.loads(Path(created.file).read_text())
    assert isinstance(data, dict)
    return data


def remove_network(v: Variant) -> None:
    """Remove the variant's network the way a user would (file, bridge, isolation rules)."""
    NetworkStore(settings_for(v)).remove(v.network.name)


def _ctrnet_handle(v: Variant) -> Handle:
    h = Variant.new_handle(v)
    h.netns = f"/run/netns/ctrnet-{h.container_id}"
    return h


class LibraryVariant(Variant):
    """``NetworkManager.setup`` / ``cleanup`` called in-process."""

    key = "library"
    label = "ctrnet library"

    def prepare(self) -> None:
        create_network(self)
        self.manager = NetworkManager(settings_for(self))

    def new_handle(self) -> Handle:
        return _ctrnet_handle(self)

    def setup(self, h: Handle) -> None:
        opts = NetworkOptions(
            networks=(self.network.name,),
            ports=(parse_port(f"{h.host_port}:{CONTAINER_PORT}"),),
            dns_servers=("127.0.0.1",),
        )
        sandbox = self.manager.setup(h.container_id, opts)
        h.netns = sandbox.netns
        h.ip = str(ipaddress.ip_interface(sandbox.networks[0].ips[0]).ip)

    def teardown(self, h: Handle) -> None:
        self.manager.cleanup(h.container_id)

    def cache_dirs(self) -> list[Path]:
        return [self.network.cache_dir, self.network.data_root]

    def leaks(self, handles: Sequence[Handle]) -> Leaks:
        found = super().leaks(handles)
        found.items += [f"netns {h.netns}" for h in handles if os.path.exists(h.netns)]
        return found

    def close(self) -> None:
        try:
            for h in list(self.live.values()):
                try:
                    self.teardown(h)
                finally:
                    self.done(h)
            remove_network(self)
        finally:
            super().close()


class CliVariant(LibraryVariant):
    """``ctrnet setup`` and ``ctrnet teardown``, each a fresh process (what a script pays)."""

    key = "cli"
    label = "ctrnet CLI"

    def prepare(self) -> None:
        create_network(self)
        self.manager = NetworkManager(settings_for(self))
        net = self.network
        self.env = {
            **os.environ,
            "NETCONFPATH": str(net.conf_dir),
            "CNI_PATH": "/usr/lib/cni",
            "CNI_CACHEDIR": str(net.cache_dir),
            "CTRNET_DATA_ROOT": str(net.data_root),
            "CTRNET_DEFAULT_BRIDGE": f"{self.ws.prefix}z",
        }

    def _ctrnet(self, *args: str) -> str:
        proc = subprocess.run(
            [CTRNET, *args], env=self.env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            err = proc.stderr.strip()
            if len(err) > 1200:  # keep the end: the exception and its message
                err = err[:200] + " ... " + err[-1000:]
            raise BenchError(f"ctrnet {' '.join(args)} failed ({proc.returncode}): {err}")
        return proc.stdout

    def setup(self, h: Handle) -> None:
        out = self._ctrnet(
            "setup",
            "--network",
            self.network.name,
            "-p",
            f"{h.host_port}:{CONTAINER_PORT}",
            "--dns",
            "127.0.0.1",
            "--format",
            "json",
            h.container_id,
        )
        data = json.loads(out)
        h.netns = data["netns"]
        h.ip = str(ipaddress.ip_interface(data["networks"][0]["ips"][0]).ip)

    def teardown(self, h: Handle) -> None:
        self._ctrnet("teardown", h.container_id)
