"""Pieces every result version shares: DNS, the plain ``dst``/``gw`` route, the version check,
and the wire methods of the results (``ResultWire``, ``ListResultWire``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING, Any, cast

from ctrnet._errors import IncompatibleVersion
from ctrnet.cni.spec._fields import Reader, put

if TYPE_CHECKING:
    from ctrnet.cni.spec._convert import AnyResult

__all__ = ["DNS", "BasicRoute", "ListResultWire", "ResultWire", "read_version"]


def read_version(r: Reader, version: str | None, supported: tuple[str, ...], who: str) -> str:
    """The result's ``cniVersion`` (else *version*, else 0.1.0), refused unless in *supported*."""
    v = r.text("cniVersion") or version or "0.1.0"
    if v not in supported:
        raise IncompatibleVersion(v, supported, who)
    return v


@dataclass(frozen=True, slots=True)
class DNS:
    """The ``dns`` object of a result; every field may be empty."""

    nameservers: tuple[str, ...] = ()
    domain: str = ""
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"nameservers", "domain", "search", "options"})

    @classmethod
    def read(cls, r: Reader | None) -> DNS:
        if r is None:
            return _EMPTY_DNS
        nameservers = r.strings("nameservers")
        for i, ns in enumerate(nameservers):
            r._address(f"nameservers[{i}]", ns.split("%", 1)[0], ns)
        return cls(
            tuple(nameservers),
            r.text("domain"),
            tuple(r.strings("search")),
            tuple(r.strings("options")),
            r.extra(cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "nameservers", list(self.nameservers))
        put(out, "domain", self.domain)
        put(out, "search", list(self.search))
        put(out, "options", list(self.options))
        out.update(self.extra)
        return out

    def __bool__(self) -> bool:
        return bool(self.nameservers or self.domain or self.search or self.options or self.extra)

    def without_extra(self) -> DNS:
        """The same DNS with unknown keys dropped (conversion across result families)."""
        if not self.extra:
            return self
        return DNS(self.nameservers, self.domain, self.search, self.options)


_EMPTY_DNS = DNS()


@dataclass(frozen=True, slots=True)
class BasicRoute:
    """A route as SPEC 0.1.0 to 0.4.0 know it: destination and optional gateway."""

    dst: IPv4Network | IPv6Network
    gw: IPv4Address | IPv6Address | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)

    _KNOWN = frozenset({"dst", "gw"})

    @classmethod
    def read(cls, r: Reader) -> BasicRoute:
        return cls(r.network("dst"), r.address("gw"), r.extra(cls._KNOWN))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dst": str(self.dst)}
        if self.gw is not None:
            out["gw"] = str(self.gw)
        out.update(self.extra)
        return out


class ResultWire:
    """What every version's ``Result`` does alike; the dataclass defines ``cni_version`` and
    ``to_dict``."""

    __slots__ = ()
    cni_version: str

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def version(self) -> str:
        return self.cni_version

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    def as_version(self, version: str) -> Any:
        """This result converted to *version* (see :func:`ctrnet.cni.spec.convert`)."""
        from ctrnet.cni.spec._convert import convert

        return convert(cast("AnyResult", self), version)  # every subclass is one of them


class ListResultWire(ResultWire):
    """The wire JSON of the results with ``interfaces``/``ips``/``routes`` lists (0.3.0 on)."""

    __slots__ = ()
    interfaces: list[Any]
    ips: list[Any]
    routes: list[Any]
    dns: DNS
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Wire JSON in libcni's key order (``dns`` is always present, as Go writes it)."""
        out: dict[str, Any] = {"cniVersion": self.cni_version}
        if self.interfaces:
            out["interfaces"] = [i.to_dict() for i in self.interfaces]
        if self.ips:
            out["ips"] = [i.to_dict() for i in self.ips]
        if self.routes:
            out["routes"] = [rt.to_dict() for rt in self.routes]
        out["dns"] = self.dns.to_dict()
        out.update(self.extra)
        return out
