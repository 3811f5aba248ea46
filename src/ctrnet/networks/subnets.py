"""Subnets: parsing, the automatic pool, and overlap checks against the host and other networks."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ctrnet._errors import SubnetConflict, SystemError_, ValidationError

__all__ = [
    "IPNetwork",
    "UsedSubnet",
    "allocate",
    "check_free",
    "find_conflict",
    "host_subnets",
    "parse_pool",
    "parse_subnet",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class UsedSubnet:
    """A prefix somebody already uses, and who: ``host route ...`` or ``network 'x' (file)``."""

    network: IPNetwork
    owner: str


def parse_subnet(text: str, option: str = "--subnet") -> IPNetwork:
    """Parse a CIDR that must be a network address (``10.5.0.0/16``, not ``10.5.0.1/16``)."""
    try:
        iface = ipaddress.ip_interface(text.strip())
    except ValueError:
        raise ValidationError(
            f"invalid {option} {text!r}: expected a CIDR such as 10.5.0.0/16 or fd00:5::/64",
            option=option,
            value=text,
        ) from None
    if "/" not in text:
        raise ValidationError(
            f"invalid {option} {text!r}: the prefix length is missing, e.g. {iface.ip}/24",
            option=option,
            value=text,
        )
    if iface.ip != iface.network.network_address:
        raise ValidationError(
            f"{option} {text} is not a network address; did you mean {iface.network}?",
            option=option,
            value=text,
        )
    return iface.network


def parse_pool(spec: str) -> tuple[IPNetwork, int, IPNetwork]:
    """Parse a pool ``START/POOLPREFIX[:SIZE]`` (default ``10.4.1.0/16:24``).

    Returns (pool, size, first candidate): the pool network, the prefix length of each
    allocated subnet, and where the walk upward starts.
    """
    head, _, size_text = spec.partition(":")
    try:
        start_iface = ipaddress.ip_interface(head.strip())
        pool = start_iface.network
        size = int(size_text) if size_text else (24 if pool.version == 4 else 64)
    except ValueError:
        raise ValidationError(
            f"invalid subnet pool {spec!r}: expected START/POOLPREFIX[:SIZE] such as "
            "10.4.1.0/16:24 (CTRNET_SUBNET_POOL)",
            option="subnet_pool",
            value=spec,
        ) from None
    if not pool.prefixlen <= size <= pool.max_prefixlen:
        raise ValidationError(
            f"invalid subnet pool {spec!r}: the subnet size /{size} must lie between the "
            f"pool's /{pool.prefixlen} and /{pool.max_prefixlen}",
            option="subnet_pool",
            value=spec,
        )
    first = ipaddress.ip_network(f"{start_iface.ip}/{size}", strict=False)
    return pool, size, first


def _candidates(spec: str) -> Iterator[IPNetwork]:
    pool, size, first = parse_pool(spec)
    for net in pool.subnets(new_prefix=size):
        if int(net.network_address) >= int(first.network_address):
            yield net


def find_conflict(subnet: IPNetwork, used: Sequence[UsedSubnet]) -> UsedSubnet | None:
    """The first used prefix that overlaps ``subnet`` (same IP version), if any."""
    for item in used:
        if item.network.version == subnet.version and item.network.overlaps(subnet):
            return item
    return None


def check_free(subnet: IPNetwork, used: Sequence[UsedSubnet]) -> None:
    """Raise :class:`SubnetConflict` naming both sides if ``subnet`` overlaps a used prefix."""
    other = find_conflict(subnet, used)
    if other is not None:
        raise SubnetConflict(
            str(subnet),
            other.owner,
            f"subnet {subnet} overlaps {other.network} used by {other.owner}; "
            "choose a free --subnet",
        )


def allocate(spec: str, used: Sequence[UsedSubnet]) -> IPNetwork:
    """The first subnet of the pool, walking upward, that overlaps nothing in ``used``."""
    for candidate in _candidates(spec):
        if find_conflict(candidate, used) is None:
            return candidate
    raise ValidationError(
        f"no free subnet left in the pool {spec}; pass --subnet or configure a larger pool "
        "(CTRNET_SUBNET_POOL)",
        option="subnet",
        value=None,
    )


def host_subnets() -> list[UsedSubnet]:
    """Every prefix on a host route (all tables) or address, read-only via ``ip -j``."""
    import shutil

    ip = shutil.which("ip")
    if ip is None:
        raise SystemError_(
            "cannot read the host's routes: the 'ip' command (iproute2) is not installed"
        )
    used: list[UsedSubnet] = []
    for family in ("-4", "-6"):
        for route in _ip_json(ip, family, "route", "show", "table", "all"):
            dst = str(route.get("dst", ""))
            if not dst or dst == "default":
                continue
            try:
                net = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                continue
            if net.prefixlen == 0:
                continue
            dev = route.get("dev")
            used.append(UsedSubnet(net, f"host route {dst}" + (f" dev {dev}" if dev else "")))
    for link in _ip_json(ip, "addr", "show"):
        for addr in link.get("addr_info", []):
            try:
                iface = ipaddress.ip_interface(f"{addr['local']}/{addr['prefixlen']}")
            except (KeyError, ValueError):
                continue
            used.append(
                UsedSubnet(iface.network, f"host address {iface} on {link.get('ifname', '?')}")
            )
    return used


def _ip_json(ip: str, *args: str) -> list[dict[str, Any]]:
    proc = subprocess.run([ip, "-j", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemError_(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    data = json.loads(proc.stdout or "[]")
    return [item for item in data if isinstance(item, dict)]
