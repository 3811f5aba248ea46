"""Results of SPEC 0.1.0 and 0.2.0: one ``ip4`` and one ``ip6`` object (libcni's types020)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import Any

from ctrnet.cni.spec._common import DNS, BasicRoute, ResultWire, read_version
from ctrnet.cni.spec._fields import Reader

__all__ = ["CONVERTERS", "SUPPORTED_VERSIONS", "IPConfig", "Result"]

SUPPORTED_VERSIONS: tuple[str, ...] = ("0.1.0", "0.2.0")


@dataclass(frozen=True, slots=True)
class IPConfig:
    """``ip4`` / ``ip6``: the address with prefix, its gateway, and the routes of that family."""

    ip: IPv4Interface | IPv6Interface
    gateway: IPv4Address | IPv6Address | None = None
    routes: tuple[BasicRoute, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"ip", "gateway", "routes"})

    @classmethod
    def read(cls, r: Reader, family: int) -> IPConfig:
        ip = r.interface("ip")
        if ip.version != family:
            raise r.fail("ip", f"{ip} is not an IPv{family} address")
        routes = tuple(BasicRoute.read(x) for x in r.children("routes"))
        return cls(ip, r.address("gateway"), routes, r.extra(cls._KNOWN))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ip": str(self.ip)}
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        if self.routes:
            out["routes"] = [rt.to_dict() for rt in self.routes]
        out.update(self.extra)
        return out


@dataclass(slots=True)
class Result(ResultWire):
    """A 0.1.0 / 0.2.0 result."""

    cni_version: str = "0.2.0"
    ip4: IPConfig | None = None
    ip6: IPConfig | None = None
    dns: DNS = field(default_factory=DNS)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    _KNOWN = frozenset({"cniVersion", "ip4", "ip6", "dns"})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], version: str | None = None) -> Result:
        """Parse wire JSON; *version* is used when the data has no ``cniVersion``."""
        r = Reader(data, "", "CNI result")
        v = read_version(r, version, SUPPORTED_VERSIONS, "0.1.0/0.2.0 result")
        ip4 = r.child("ip4")
        ip6 = r.child("ip6")
        return cls(
            v,
            IPConfig.read(ip4, 4) if ip4 is not None else None,
            IPConfig.read(ip6, 6) if ip6 is not None else None,
            DNS.read(r.child("dns")),
            r.extra(cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """Wire JSON in libcni's key order (``dns`` is always present, as Go writes it)."""
        out: dict[str, Any] = {"cniVersion": self.cni_version}
        if self.ip4 is not None:
            out["ip4"] = self.ip4.to_dict()
        if self.ip6 is not None:
            out["ip6"] = self.ip6.to_dict()
        out["dns"] = self.dns.to_dict()
        out.update(self.extra)
        return out


def _relabel(result: Result, to_version: str) -> Result:
    return Result(to_version, result.ip4, result.ip6, result.dns, dict(result.extra))


CONVERTERS: tuple[tuple[tuple[str, ...], tuple[str, ...], Callable[[Any, str], Any]], ...] = (
    (SUPPORTED_VERSIONS, SUPPORTED_VERSIONS, _relabel),
)
