"""What a caller gets back: :class:`Sandbox`, a read-only view of one sandbox record."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ctrnet.manager.ports import PortMapping
from ctrnet.manager.records import SandboxRecord

__all__ = ["Sandbox", "SandboxNetwork"]


@dataclass(frozen=True, kw_only=True)
class SandboxNetwork:
    """One network interface of a sandbox."""

    network: str
    network_id: str
    ifname: str
    #: addresses with prefix length, e.g. ``10.4.0.2/24``
    ips: tuple[str, ...]
    gateways: tuple[str, ...]
    mac: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "network_id": self.network_id,
            "ifname": self.ifname,
            "ips": list(self.ips),
            "gateways": list(self.gateways),
            "mac": self.mac,
        }


@dataclass(frozen=True, kw_only=True)
class Sandbox:
    """A sandbox: its namespace, interfaces, addresses, ports and container files.

    ``netns`` is the namespace path (Linux) or HCN namespace GUID (Windows); it is empty when the
    sandbox uses the host's namespace (host mode).
    """

    id: str
    name: str
    mode: str
    state: str
    platform: str
    netns: str
    hostname: str
    domainname: str
    networks: tuple[SandboxNetwork, ...]
    ports: tuple[PortMapping, ...]
    hosts_path: str
    resolv_conf_path: str
    hostname_path: str
    target: str
    created: str
    #: state ``removing``: what the last teardown failed on (``ctrnet teardown`` retries)
    errors: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: SandboxRecord) -> Sandbox:
        return cls(
            id=record.id,
            name=record.name,
            mode=record.mode,
            state=record.state,
            platform=record.platform,
            netns=record.netns,
            hostname=record.hostname,
            domainname=record.domainname,
            networks=tuple(
                SandboxNetwork(
                    network=n.network,
                    network_id=n.network_id,
                    ifname=n.ifname,
                    ips=tuple(n.ips),
                    gateways=tuple(n.gateways),
                    mac=n.mac,
                )
                for n in record.networks
            ),
            ports=tuple(
                PortMapping(
                    host_port=int(p["hostPort"]),
                    container_port=int(p["containerPort"]),
                    protocol=str(p.get("protocol") or "tcp"),
                    host_ip=str(p.get("hostIP") or "0.0.0.0"),
                )
                for p in record.ports
            ),
            hosts_path=record.hosts_path,
            resolv_conf_path=record.resolv_conf_path,
            hostname_path=record.hostname_path,
            target=record.target,
            created=record.created,
            errors=tuple(record.errors),
        )

    @property
    def ips(self) -> list[str]:
        """Every address of every interface, without prefix length, in interface order."""
        return [ip.split("/")[0] for n in self.networks for ip in n.ips]

    @property
    def interfaces(self) -> list[str]:
        return [n.ifname for n in self.networks]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``ctrnet setup --format json`` and ``ps --format json``."""
        return {
            "id": self.id,
            "name": self.name,
            "mode": self.mode,
            "state": self.state,
            "platform": self.platform,
            "netns": self.netns,
            "hostname": self.hostname,
            "domainname": self.domainname,
            "networks": [n.to_dict() for n in self.networks],
            "ports": [p.to_cni() for p in self.ports],
            "hosts_path": self.hosts_path,
            "resolv_conf_path": self.resolv_conf_path,
            "hostname_path": self.hostname_path,
            "target": self.target,
            "created": self.created,
            "errors": list(self.errors),
        }

    def inspect(self) -> dict[str, Any]:
        """A docker-compatible ``inspect`` object (``NetworkSettings`` and friends)."""
        networks: dict[str, Any] = {}
        for n in self.networks:
            v4 = [ipaddress.ip_interface(ip) for ip in n.ips if ":" not in ip]
            v6 = [ipaddress.ip_interface(ip) for ip in n.ips if ":" in ip]
            gw4 = next((g for g in n.gateways if ":" not in g), "")
            gw6 = next((g for g in n.gateways if ":" in g), "")
            networks[n.network] = {
                "IPAddress": str(v4[0].ip) if v4 else "",
                "IPPrefixLen": v4[0].network.prefixlen if v4 else 0,
                "Gateway": gw4,
                "GlobalIPv6Address": str(v6[0].ip) if v6 else "",
                "GlobalIPv6PrefixLen": v6[0].network.prefixlen if v6 else 0,
                "IPv6Gateway": gw6,
                "MacAddress": n.mac,
                "NetworkID": n.network_id,
                "EndpointID": "",
                "Aliases": [a for a in (self.name, self.hostname) if a] or None,
                "InterfaceName": n.ifname,
            }
        ports: dict[str, list[dict[str, str]] | None] = {}
        for p in self.ports:
            ports.setdefault(f"{p.container_port}/{p.protocol}", []).append(  # type: ignore[union-attr]
                {"HostIp": p.host_ip, "HostPort": str(p.host_port)}
            )
        first = next(iter(networks.values()), None)
        return {
            "Id": self.id,
            "Name": self.name,
            "Created": self.created,
            "State": {"Status": self.state, "Error": "; ".join(self.errors)},
            "Config": {"Hostname": self.hostname, "Domainname": self.domainname},
            "HostConfig": {"NetworkMode": self._network_mode()},
            "HostsPath": self.hosts_path,
            "ResolvConfPath": self.resolv_conf_path,
            "HostnamePath": self.hostname_path,
            "NetworkSettings": {
                "SandboxKey": self.netns,
                "Ports": ports,
                "IPAddress": first["IPAddress"] if first else "",
                "IPPrefixLen": first["IPPrefixLen"] if first else 0,
                "Gateway": first["Gateway"] if first else "",
                "MacAddress": first["MacAddress"] if first else "",
                "Networks": networks,
            },
        }

    def _network_mode(self) -> str:
        if self.mode == "cni":
            return self.networks[0].network if self.networks else "bridge"
        if self.mode == "container":
            return f"container:{self.target}"
        if self.mode == "ns":
            return f"ns:{self.netns}"
        return self.mode
