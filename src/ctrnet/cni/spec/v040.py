"""Results of SPEC 0.3.0, 0.3.1 and 0.4.0 (libcni's types040), and their 0.2.0 conversions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import Any

from ctrnet._errors import VersionError
from ctrnet.cni.spec import v020
from ctrnet.cni.spec._common import DNS, BasicRoute, ListResultWire, read_version
from ctrnet.cni.spec._fields import Reader, put

__all__ = ["CONVERTERS", "SUPPORTED_VERSIONS", "IPConfig", "Interface", "Result", "Route"]

SUPPORTED_VERSIONS: tuple[str, ...] = ("0.3.0", "0.3.1", "0.4.0")

Route = BasicRoute


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    mac: str = ""
    sandbox: str = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"name", "mac", "sandbox"})

    @classmethod
    def read(cls, r: Reader) -> Interface:
        return cls(
            r.text("name", required=True), r.text("mac"), r.text("sandbox"), r.extra(cls._KNOWN)
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        put(out, "mac", self.mac)
        put(out, "sandbox", self.sandbox)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class IPConfig:
    """One address; on the wire it also carries ``version`` ("4"/"6"), derived from it here."""

    address: IPv4Interface | IPv6Interface
    gateway: IPv4Address | IPv6Address | None = None
    interface: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"version", "address", "gateway", "interface"})

    @property
    def version(self) -> str:
        return "4" if self.address.version == 4 else "6"

    @classmethod
    def read(cls, r: Reader) -> IPConfig:
        family = r.text("version", required=True)
        if family not in ("4", "6"):
            raise r.fail("version", f"must be '4' or '6', got {family!r}")
        address = r.interface("address")
        if str(address.version) != family:
            raise r.fail(
                "version", f"is {family!r} but the address {address} is IPv{address.version}"
            )
        return cls(
            address,
            r.address("gateway"),
            r.integer("interface", maximum=2**31 - 1),
            r.extra(cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version}
        if self.interface is not None:
            out["interface"] = self.interface
        out["address"] = str(self.address)
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        out.update(self.extra)
        return out


@dataclass(slots=True)
class Result(ListResultWire):
    """A 0.3.0 / 0.3.1 / 0.4.0 result."""

    cni_version: str = "0.4.0"
    interfaces: list[Interface] = field(default_factory=list)
    ips: list[IPConfig] = field(default_factory=list)
    routes: list[BasicRoute] = field(default_factory=list)
    dns: DNS = field(default_factory=DNS)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    _KNOWN = frozenset({"cniVersion", "interfaces", "ips", "routes", "dns"})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], version: str | None = None) -> Result:
        """Parse wire JSON; *version* is used when the data has no ``cniVersion``."""
        r = Reader(data, "", "CNI result")
        v = read_version(r, version, SUPPORTED_VERSIONS, "0.3.x/0.4.0 result")
        return cls(
            v,
            [Interface.read(x) for x in r.children("interfaces")],
            [IPConfig.read(x) for x in r.children("ips")],
            [BasicRoute.read(x) for x in r.children("routes")],
            DNS.read(r.child("dns")),
            r.extra(cls._KNOWN),
        )


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


def from_020(result: v020.Result, to_version: str) -> Result:
    """``ip4``/``ip6`` become IP entries (no interface index); their routes are concatenated."""
    ips: list[IPConfig] = []
    routes: list[BasicRoute] = []
    for cfg in (result.ip4, result.ip6):
        if cfg is not None:
            ips.append(IPConfig(cfg.ip, cfg.gateway))
            routes.extend(BasicRoute(rt.dst, rt.gw) for rt in cfg.routes)
    return Result(to_version, [], ips, routes, result.dns.without_extra())


def to_020(result: Result, to_version: str, *, source: str | None = None) -> v020.Result:
    """Keep the first IPv4 and the first IPv6 address; routes follow their family's address.

    Raises :class:`VersionError` when there is no address at all, as libcni does.
    """
    ip4: IPv4Interface | IPv6Interface | None = None
    ip6: IPv4Interface | IPv6Interface | None = None
    gw4: IPv4Address | IPv6Address | None = None
    gw6: IPv4Address | IPv6Address | None = None
    for ip in result.ips:
        if ip.address.version == 4 and ip4 is None:
            ip4, gw4 = ip.address, ip.gateway
        elif ip.address.version == 6 and ip6 is None:
            ip6, gw6 = ip.address, ip.gateway
        if ip4 is not None and ip6 is not None:
            break
    if ip4 is None and ip6 is None:
        raise VersionError(
            f"cannot convert a CNI {source or result.cni_version} result to {to_version}: it has no IP "
            "addresses, and 0.1.0/0.2.0 results need at least one"
        )
    routes4 = tuple(BasicRoute(r.dst, r.gw) for r in result.routes if r.dst.version == 4)
    routes6 = tuple(BasicRoute(r.dst, r.gw) for r in result.routes if r.dst.version == 6)
    return v020.Result(
        to_version,
        v020.IPConfig(ip4, gw4, routes4) if ip4 is not None else None,
        v020.IPConfig(ip6, gw6, routes6) if ip6 is not None else None,
        result.dns.without_extra(),
    )


CONVERTERS: tuple[tuple[tuple[str, ...], tuple[str, ...], Callable[[Any, str], Any]], ...] = (
    (v020.SUPPORTED_VERSIONS, SUPPORTED_VERSIONS, from_020),
    (SUPPORTED_VERSIONS, SUPPORTED_VERSIONS, _relabel),
    (SUPPORTED_VERSIONS, v020.SUPPORTED_VERSIONS, to_020),
)
