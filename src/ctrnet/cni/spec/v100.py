"""Results of SPEC 1.0.0 and 1.1.0 (libcni's types100): the shape every caller above cni/ uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from typing import Any

from ctrnet.cni.spec import v020, v040
from ctrnet.cni.spec._common import DNS, BasicRoute, ListResultWire, read_version
from ctrnet.cni.spec._fields import Reader, put

__all__ = ["CONVERTERS", "SUPPORTED_VERSIONS", "IPConfig", "Interface", "Result", "Route"]

SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0.0", "1.1.0")

_I32 = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Interface:
    """An interface the attachment created; ``sandbox`` is the netns path, empty on the host."""

    name: str
    mac: str = ""
    mtu: int | None = None
    sandbox: str = ""
    socket_path: str = ""
    pci_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"name", "mac", "mtu", "sandbox", "socketPath", "pciID"})

    @classmethod
    def read(cls, r: Reader) -> Interface:
        return cls(
            r.text("name", required=True),
            r.text("mac"),
            r.integer("mtu"),
            r.text("sandbox"),
            r.text("socketPath"),
            r.text("pciID"),
            r.extra(cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        put(out, "mac", self.mac)
        put(out, "mtu", self.mtu)
        put(out, "sandbox", self.sandbox)
        put(out, "socketPath", self.socket_path)
        put(out, "pciID", self.pci_id)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class IPConfig:
    """One address; ``interface`` is an index into ``Result.interfaces`` (may be out of range)."""

    address: IPv4Interface | IPv6Interface
    gateway: IPv4Address | IPv6Address | None = None
    interface: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"address", "gateway", "interface"})

    @classmethod
    def read(cls, r: Reader) -> IPConfig:
        return cls(
            r.interface("address"),
            r.address("gateway"),
            r.integer("interface", maximum=_I32),
            r.extra(cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.interface is not None:
            out["interface"] = self.interface
        out["address"] = str(self.address)
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class Route:
    """A route; ``mtu`` .. ``scope`` are 1.1.0 additions (scope: 0 global, 253 link, 254 host)."""

    dst: IPv4Network | IPv6Network
    gw: IPv4Address | IPv6Address | None = None
    mtu: int | None = None
    advmss: int | None = None
    priority: int | None = None
    table: int | None = None
    scope: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"dst", "gw", "mtu", "advmss", "priority", "table", "scope"})

    @classmethod
    def read(cls, r: Reader) -> Route:
        return cls(
            r.network("dst"),
            r.address("gw"),
            r.integer("mtu"),
            r.integer("advmss"),
            r.integer("priority"),
            r.integer("table"),
            r.integer("scope", maximum=255),
            r.extra(cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dst": str(self.dst)}
        if self.gw is not None:
            out["gw"] = str(self.gw)
        put(out, "mtu", self.mtu)
        put(out, "advmss", self.advmss)
        put(out, "priority", self.priority)
        put(out, "table", self.table)
        put(out, "scope", self.scope)
        out.update(self.extra)
        return out


@dataclass(slots=True)
class Result(ListResultWire):
    """A 1.0.0 / 1.1.0 result (the two share one shape; 1.1.0 only adds optional fields)."""

    cni_version: str = "1.0.0"
    interfaces: list[Interface] = field(default_factory=list)
    ips: list[IPConfig] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    dns: DNS = field(default_factory=DNS)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    _KNOWN = frozenset({"cniVersion", "interfaces", "ips", "routes", "dns"})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], version: str | None = None) -> Result:
        """Parse wire JSON; *version* is used when the data has no ``cniVersion``."""
        r = Reader(data, "", "CNI result")
        v = read_version(r, version, SUPPORTED_VERSIONS, "1.x result")
        return cls(
            v,
            [Interface.read(x) for x in r.children("interfaces")],
            [IPConfig.read(x) for x in r.children("ips")],
            [Route.read(x) for x in r.children("routes")],
            DNS.read(r.child("dns")),
            r.extra(cls._KNOWN),
        )

    def interface_of(self, ip: IPConfig) -> Interface | None:
        """The interface *ip* belongs to, or None when it names none (or an index out of range)."""
        i = ip.interface
        if i is None or not 0 <= i < len(self.interfaces):
            return None
        return self.interfaces[i]


# --- conversions ---------------------------------------------------------------------------------


def _relabel(result: Result, to_version: str) -> Result:
    return Result(
        to_version,
        list(result.interfaces),
        list(result.ips),
        list(result.routes),
        result.dns,
        dict(result.extra),
    )


def from_040(result: v040.Result, to_version: str) -> Result:
    """Drop each IP's ``version``; interfaces keep name, mac and sandbox."""
    return Result(
        to_version,
        [Interface(i.name, i.mac, sandbox=i.sandbox) for i in result.interfaces],
        [IPConfig(ip.address, ip.gateway, ip.interface) for ip in result.ips],
        [Route(rt.dst, rt.gw) for rt in result.routes],
        result.dns.without_extra(),
    )


def to_040(result: Result, to_version: str) -> v040.Result:
    """Add ``version`` to each IP; drop interface mtu/socketPath/pciID and route extras."""
    return v040.Result(
        to_version,
        [v040.Interface(i.name, i.mac, i.sandbox) for i in result.interfaces],
        [v040.IPConfig(ip.address, ip.gateway, ip.interface) for ip in result.ips],
        [BasicRoute(rt.dst, rt.gw) for rt in result.routes],
        result.dns.without_extra(),
    )


def _from_020(result: v020.Result, to_version: str) -> Result:
    return from_040(v040.from_020(result, "0.4.0"), to_version)


def _to_020(result: Result, to_version: str) -> v020.Result:
    return v040.to_020(to_040(result, "0.4.0"), to_version, source=result.cni_version)


CONVERTERS: tuple[tuple[tuple[str, ...], tuple[str, ...], Callable[[Any, str], Any]], ...] = (
    (v020.SUPPORTED_VERSIONS, SUPPORTED_VERSIONS, _from_020),
    (v040.SUPPORTED_VERSIONS, SUPPORTED_VERSIONS, from_040),
    (SUPPORTED_VERSIONS, SUPPORTED_VERSIONS, _relabel),
    (SUPPORTED_VERSIONS, v040.SUPPORTED_VERSIONS, to_040),
    (SUPPORTED_VERSIONS, v020.SUPPORTED_VERSIONS, _to_020),
)
