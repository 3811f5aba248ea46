"""The ways of bringing one sandbox up and down that the suite compares.

Every variant does the same work per sandbox: create a network namespace, attach it to a
default-style bridge network with one published TCP port, and later detach it and remove the
namespace. Each variant owns a private network (bridge, subnet, directories), so none shares
state with another.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _direct import DirectChain
from _host import BenchError, Leaks, Workspace, iptables_rules
from _network import BenchNetwork
from ctrnet._fs import file_lock
from ctrnet.platform._netns_linux import NetnsBackend

__all__ = ["CONTAINER_PORT", "NETAVARK", "DirectVariant", "Handle", "NetavarkVariant", "Variant"]

CNI_PATH = ("/usr/lib/cni",)
NETAVARK = "/usr/lib/podman/netavark"
CONTAINER_PORT = 80


@dataclass
class Handle:
    """One sandbox a variant set up: what its teardown and the checks need."""

    container_id: str
    netns: str
    host_port: int
    ip: str | None = None
    state: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class Variant(ABC):
    """A way to set sandboxes up and tear them down; safe to call from several threads."""

    key: str = ""
    label: str = ""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.network = BenchNetwork.make(ws, self.key[0])
        self.netns = NetnsBackend("/run/netns")
        self._count = 0
        self._lock = threading.Lock()
        #: handles set up and not yet torn down; ``close`` takes them down
        self.live: dict[str, Handle] = {}

    def _next(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def new_handle(self) -> Handle:
        """A fresh container ID, namespace path and host port (nothing created yet)."""
        n = self._next()
        h = Handle(
            container_id=self.ws.container_id(),
            netns=f"/run/netns/{self.ws.prefix}-{self.key[0]}{n}",
            host_port=self.ws.port(),
        )
        with self._lock:
            self.live[h.container_id] = h
        return h

    def done(self, h: Handle) -> None:
        """Mark ``h`` as torn down (call after a successful :meth:`teardown`)."""
        with self._lock:
            self.live.pop(h.container_id, None)

    @abstractmethod
    def prepare(self) -> None:
        """Create what the variant needs before the first sandbox (untimed)."""

    @abstractmethod
    def setup(self, h: Handle) -> None:
        """Bring the sandbox ``h`` up: namespace, network, published port; sets ``h.ip``."""

    @abstractmethod
    def teardown(self, h: Handle) -> None:
        """Take ``h`` down completely: network, port, namespace."""

    def cache_dirs(self) -> list[Path]:
        return [self.network.cache_dir]

    def leaks(self, handles: Sequence[Handle]) -> Leaks:
        """What ``handles`` left behind after their teardown."""
        return self.ws.sandbox_leaks(
            [h.container_id for h in handles],
            bridge=self.network.bridge,
            lease_dirs=[self.network.lease_dir],
            cache_dirs=self.cache_dirs(),
        )

    def verify(self, h: Handle) -> None:
        """Check (untimed) that ``h`` is really up: address in the namespace, DNAT for its port."""
        name = os.path.basename(h.netns)
        out = subprocess.run(
            ["ip", "-n", name, "-j", "-4", "addr", "show", "eth0"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        addrs = [a["local"] for item in json.loads(out or "[]") for a in item.get("addr_info", [])]
        if h.ip is None or h.ip not in addrs:
            raise BenchError(f"{self.label}: sandbox {name} has addresses {addrs}, expected {h.ip}")
        if not any(f"--dport {h.host_port} " in r for r in iptables_rules()):
            raise BenchError(f"{self.label}: no DNAT rule for host port {h.host_port}")

    def close(self) -> None:
        """Tear down what is still up, then remove the variant's network from the host."""
        for h in list(self.live.values()):
            try:
                self.teardown(h)
            except Exception as exc:
                print(f"warning: {self.label}: teardown of {h.netns} failed: {exc}")
            self.done(h)
        self.network.remove_host_state()


def _first_ip(result: dict[str, Any]) -> str | None:
    for ip in result.get("ips", []):
        return str(ipaddress.ip_interface(ip["address"]).ip)
    return None


class DirectVariant(Variant):
    """The plugins executed by a minimal script (:class:`DirectChain`), namespace by syscalls."""

    key = "direct"
    label = "direct plugins"

    def prepare(self) -> None:
        try:  # the very conflist ctrnet writes, when ctrnet's store is there
            from _ctrnet import create_network
        except ImportError:
            self.network.write_conflist()
            conflist = self.network.conflist()
        else:
            conflist = create_network(self)
        self.chain = DirectChain(conflist, CNI_PATH)

    def _caps(self, h: Handle) -> dict[str, Any]:
        # the very mapping ctrnet passes for ``-p PORT:80`` (PortMapping.to_cni), so that the
        # plugins do the same work in both variants
        mapping = {
            "hostPort": h.host_port,
            "containerPort": CONTAINER_PORT,
            "protocol": "tcp",
            "hostIP": "0.0.0.0",
        }
        return {"portMappings": [mapping]}

    def setup(self, h: Handle) -> None:
        path = self.netns.create(os.path.basename(h.netns))
        self.netns.set_loopback_up(path)
        try:
            h.state = self.chain.add(h.container_id, path, self._caps(h))
        except BaseException:
            self.chain.delete(h.container_id, path, self._caps(h), None)
            self.netns.remove(path)
            raise
        h.ip = _first_ip(h.state)

    def teardown(self, h: Handle) -> None:
        self.chain.delete(h.container_id, h.netns, self._caps(h), h.state)
        self.netns.remove(h.netns)


class NetavarkVariant(Variant):
    """Podman's netavark: ``netavark --config DIR setup|teardown NETNS < options.json``."""

    key = "netavark"
    label = "netavark"

    def prepare(self) -> None:
        if not os.access(NETAVARK, os.X_OK):
            raise BenchError(f"netavark is not installed at {NETAVARK}")
        self.config = self.network.data_root
        self._hosts = list(self.network.subnet.hosts())[1:]  # .1 is the gateway
        self._free = list(reversed(self._hosts))

    def _options(self, h: Handle) -> bytes:
        net = self.network
        return json.dumps(
            {
                "container_id": h.container_id,
                "container_name": os.path.basename(h.netns),
                "port_mappings": [
                    {
                        "host_ip": "",
                        "container_port": CONTAINER_PORT,
                        "host_port": h.host_port,
                        "range": 1,
                        "protocol": "tcp",
                    }
                ],
                "networks": {net.name: {"interface_name": "eth0", "static_ips": [h.ip]}},
                "network_info": {
                    net.name: {
                        "name": net.name,
                        "id": net.conflist()["nerdctlID"],
                        "driver": "bridge",
                        "network_interface": net.bridge,
                        "subnets": [{"subnet": str(net.subnet), "gateway": str(net.gateway)}],
                        "ipv6_enabled": False,
                        "internal": False,
                        "dns_enabled": False,
                        "ipam_options": {"driver": "host-local"},
                    }
                },
            }
        ).encode()

    def _run(self, command: str, h: Handle) -> None:
        # Podman serialises netavark calls with a lock file in its config dir; netavark 1.4 run
        # concurrently without it races on its iptables chains ("Chain already exists").
        with file_lock(self.config / "netavark.lock"):
            proc = subprocess.run(
                [NETAVARK, "--config", str(self.config), command, h.netns],
                input=self._options(h),
                capture_output=True,
                check=False,
            )
        if proc.returncode != 0:
            raise BenchError(
                f"netavark {command} failed ({proc.returncode}): "
                f"{proc.stdout.decode(errors='replace')} {proc.stderr.decode(errors='replace')}"
            )

    def setup(self, h: Handle) -> None:
        with self._lock:  # the caller assigns addresses (podman's IPAM does this)
            h.ip = str(self._free.pop())
        self.netns.create(os.path.basename(h.netns))
        try:
            self._run("setup", h)
        except BaseException:
            self._teardown(h)
            raise

    def teardown(self, h: Handle) -> None:
        self._teardown(h)

    def _teardown(self, h: Handle) -> None:
        try:
            self._run("teardown", h)
        finally:
            self.netns.remove(h.netns)
            with self._lock:
                if h.ip is not None:
                    self._free.insert(0, ipaddress.IPv4Address(h.ip))

    def leaks(self, handles: Sequence[Handle]) -> Leaks:
        found = super().leaks(handles)
        ips = {h.ip for h in handles if h.ip}
        rules = iptables_rules()
        found.items += [f"rule {r}" for r in rules if any(f"{ip}:" in r for ip in ips)]
        return found
