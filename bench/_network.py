"""One benchmark network: a default-style bridge conflist on a private subnet, and its removal.

The conflist is the one nerdctl (and ctrnet) write for the default network: bridge with
host-local, portmap, firewall, tuning. Each variant gets its own network (own bridge, subnet,
conf/cache dirs) so that no variant's state can favour or slow another.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _host import DEFAULT_LEASE_ROOT, Workspace, iptables_rules

__all__ = ["BenchNetwork", "default_conflist"]


def default_conflist(name: str, bridge: str, subnet: ipaddress.IPv4Network) -> dict[str, Any]:
    """The conflist nerdctl writes for its default network, for ``name``/``bridge``/``subnet``."""
    gateway = str(subnet.network_address + 1)
    return {
        "cniVersion": "1.0.0",
        "name": name,
        "nerdctlID": hashlib.sha256(name.encode()).hexdigest(),
        "nerdctlLabels": {},
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "ranges": [[{"gateway": gateway, "subnet": str(subnet)}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "type": "host-local",
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall", "ingressPolicy": "same-bridge"},
            {"type": "tuning"},
        ],
    }


@dataclass
class BenchNetwork:
    """A network private to one variant: its names, subnet and directories."""

    name: str
    bridge: str
    subnet: ipaddress.IPv4Network
    conf_dir: Path
    cache_dir: Path
    data_root: Path

    @classmethod
    def make(cls, ws: Workspace, key: str) -> BenchNetwork:
        """A fresh network for the variant ``key`` (a short tag, e.g. ``d`` for direct)."""
        name = f"{ws.prefix}-{key}"
        return cls(
            name=name,
            bridge=f"{ws.prefix}{key}",
            subnet=ws.subnet(),
            conf_dir=ws.dir(key, "net.d"),
            cache_dir=ws.dir(key, "cache"),
            data_root=ws.dir(key, "data"),
        )

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.subnet.network_address + 1

    @property
    def lease_dir(self) -> Path:
        return DEFAULT_LEASE_ROOT / self.name

    def conflist(self) -> dict[str, Any]:
        return default_conflist(self.name, self.bridge, self.subnet)

    def write_conflist(self) -> Path:
        path = self.conf_dir / f"nerdctl-{self.name}.conflist"
        path.write_text(json.dumps(self.conflist(), indent=2))
        return path

    def remove_host_state(self) -> None:
        """Delete the bridge, the firewall plugin's isolation rules for it and its lease dir.

        The bridge and firewall plugins leave these after the last sandbox by design; only
        rules that name this network's own bridge are touched.
        """
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        for rule in iptables_rules():
            tool, table, *spec = shlex.split(rule)  # as tests.support.host prints it
            if not spec or spec[0] != "-A" or self.bridge not in spec:
                continue
            subprocess.run(
                [tool, "-w", "-t", table, "-D", *spec[1:]], capture_output=True, check=False
            )
        with contextlib.suppress(FileNotFoundError):
            for f in self.lease_dir.iterdir():
                f.unlink()
            self.lease_dir.rmdir()
