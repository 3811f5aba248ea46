"""What a user asks of a sandbox's network: :class:`NetworkOptions` and the flag parsers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TypeVar

from ctrnet._errors import ValidationError
from ctrnet.manager.extrahosts import ExtraHost, parse_extra_hosts
from ctrnet.manager.hostname import validate_hostname
from ctrnet.manager.ports import PortSpec, parse_port
from ctrnet.manager.resolvconf import validate_dns_option, validate_search_domain

__all__ = [
    "UTS_MODES",
    "NetworkOptions",
    "parse_dns_server",
    "parse_ip",
    "parse_mac",
    "split_networks",
]

#: accepted ``--uts`` values ("" = a private UTS namespace)
UTS_MODES = ("", "host")
_T = TypeVar("_T")
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}\Z")


@dataclass(frozen=True, kw_only=True)
class NetworkOptions:
    """A sandbox's networking request, the fields of nerdctl's ``types.NetworkOptions``.

    Values are checked (and IPs / MACs normalized) on construction; :meth:`parse` builds one from
    raw flag strings. ``networks`` empty means the platform's default network.
    """

    networks: tuple[str, ...] = ()
    hostname: str = ""
    domainname: str = ""
    uts: str = ""
    ip: str | None = None
    ip6: str | None = None
    mac_address: str | None = None
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    extra_hosts: tuple[ExtraHost, ...] = ()
    ports: tuple[PortSpec, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        if self.uts not in UTS_MODES:
            raise ValidationError(
                f"unknown uts value. valid value(s) are 'host', got: {self.uts!r}",
                option="--uts",
                value=self.uts,
            )
        if self.hostname:
            validate_hostname(self.hostname)
        if self.domainname:
            validate_hostname(self.domainname, "--domainname")
        if self.ip is not None:
            object.__setattr__(self, "ip", parse_ip(self.ip, version=4, option="--ip"))
        if self.ip6 is not None:
            object.__setattr__(self, "ip6", parse_ip(self.ip6, version=6, option="--ip6"))
        if self.mac_address is not None:
            object.__setattr__(self, "mac_address", parse_mac(self.mac_address))
        object.__setattr__(
            self, "dns_servers", tuple(_dedup(parse_dns_server(s) for s in self.dns_servers))
        )
        object.__setattr__(
            self, "dns_search", tuple(_dedup(validate_search_domain(s) for s in self.dns_search))
        )
        object.__setattr__(
            self, "dns_options", tuple(_dedup(validate_dns_option(s) for s in self.dns_options))
        )
        for net in self.networks:
            if not net.strip():
                raise ValidationError(
                    "empty --network value; name a network, or use none, host, container:<id>",
                    option="--network",
                    value=net,
                )

    @classmethod
    def parse(
        cls,
        *,
        networks: Iterable[str] = (),
        publish: Iterable[str] = (),
        add_host: Iterable[str] = (),
        host_gateway_ip: str | None = None,
        hostname: str | None = None,
        domainname: str | None = None,
        uts: str | None = None,
        ip: str | None = None,
        ip6: str | None = None,
        mac_address: str | None = None,
        dns: Iterable[str] = (),
        dns_search: Iterable[str] = (),
        dns_options: Iterable[str] = (),
    ) -> NetworkOptions:
        """Options from raw flag values (``--network a,b`` splits; repeats are dropped)."""
        return cls(
            networks=split_networks(networks),
            ports=tuple(_dedup(parse_port(p) for p in _dedup(publish))),
            extra_hosts=parse_extra_hosts(add_host, host_gateway_ip=host_gateway_ip),
            hostname=hostname or "",
            domainname=domainname or "",
            uts=uts or "",
            ip=ip or None,
            ip6=ip6 or None,
            mac_address=mac_address or None,
            dns_servers=tuple(dns),
            dns_search=tuple(dns_search),
            dns_options=tuple(dns_options),
        )

    def given(self) -> list[str]:
        """The flags this request uses, by their long names (for "not supported" messages)."""
        flags = {
            "--hostname": bool(self.hostname),
            "--domainname": bool(self.domainname),
            "--uts": bool(self.uts),
            "--ip": self.ip is not None,
            "--ip6": self.ip6 is not None,
            "--mac-address": self.mac_address is not None,
            "--dns": bool(self.dns_servers),
            "--dns-search": bool(self.dns_search),
            "--dns-opt": bool(self.dns_options),
            "--add-host": bool(self.extra_hosts),
            "--publish": bool(self.ports),
        }
        return [flag for flag, used in flags.items() if used]


def split_networks(values: Iterable[str]) -> tuple[str, ...]:
    """``--network a,b --network c`` -> ``("a", "b", "c")``, repeats dropped, order kept."""
    out: list[str] = []
    for value in values:
        parts = value.split(",")
        for part in parts:
            name = part.strip()
            if not name:
                raise ValidationError(
                    f"empty network name in --network {value!r}", option="--network", value=value
                )
            out.append(name)
    return tuple(_dedup(out))


def parse_ip(value: str, *, version: int, option: str) -> str:
    """A normalized IPv4 (``version=4``) or IPv6 address; the error names ``option``."""
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValidationError(
            f"invalid {option} {value!r}: not an IP address", option=option, value=value
        ) from None
    if addr.version != version:
        hint = "use --ip6 for IPv6" if version == 4 else "use --ip for IPv4"
        raise ValidationError(
            f"invalid {option} {value!r}: not an IPv{version} address; {hint}",
            option=option,
            value=value,
        )
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast:
        raise ValidationError(
            f"invalid {option} {value!r}: a sandbox cannot use a loopback, multicast or "
            "unspecified address",
            option=option,
            value=value,
        )
    return str(addr)


def parse_mac(value: str) -> str:
    """A unicast 48-bit MAC, normalized to lower case with colons."""
    text = value.strip()
    if not _MAC.match(text):
        raise ValidationError(
            f"invalid --mac-address {value!r}: use six hex octets, e.g. 02:42:ac:11:00:02",
            option="--mac-address",
            value=value,
        )
    mac = text.replace("-", ":").lower()
    first = int(mac[:2], 16)
    if first & 1 or mac == "00:00:00:00:00:00":
        raise ValidationError(
            f"invalid --mac-address {value!r}: it is a multicast or zero address; "
            "use a unicast one (first octet even, e.g. 02:...)",
            option="--mac-address",
            value=value,
        )
    return mac


def parse_dns_server(value: str) -> str:
    """A ``--dns`` value: an IPv4 or IPv6 address, normalized."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValidationError(
            f"invalid --dns {value!r}: not an IP address", option="--dns", value=value
        ) from None


def _dedup(items: Iterable[_T]) -> list[_T]:
    return list(dict.fromkeys(items))
