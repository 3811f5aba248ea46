"""IPAM sections: host-local (default), static and dhcp, plus the Windows nat form."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ctrnet._errors import UnsupportedOption, ValidationError
from ctrnet.networks.subnets import IPAddress, IPNetwork, parse_subnet

__all__ = [
    "DHCP_SOCKET",
    "IPAM_DRIVERS",
    "SubnetSpec",
    "dhcp_hint",
    "ipam_section",
    "match_to_subnets",
    "windows_ipam",
]

#: where the dhcp plugin's daemon listens (``dhcp daemon`` default)
DHCP_SOCKET = "/run/cni/dhcp.sock"
#: accepted ``--ipam-driver`` values per platform; ``default`` means host-local
IPAM_DRIVERS: dict[str, tuple[str, ...]] = {
    "linux": ("default", "host-local", "static", "dhcp"),
    "windows": ("default",),
}


@dataclass(frozen=True)
class SubnetSpec:
    """One subnet of a network with its gateway and optional allocation range."""

    subnet: IPNetwork
    gateway: IPAddress
    ip_range: IPNetwork | None = None


def _parse_address(text: str, option: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise ValidationError(
            f"invalid {option} {text!r}: expected an IP address such as 10.5.0.1",
            option=option,
            value=text,
        ) from None


def _owner(
    item: IPAddress | IPNetwork, subnets: Sequence[IPNetwork], option: str, text: str
) -> int:
    for i, net in enumerate(subnets):
        if net.version != item.version:
            continue
        if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            if item.subnet_of(net):  # type: ignore[arg-type]
                return i
        elif item in net:
            return i
    listed = ", ".join(str(n) for n in subnets)
    raise ValidationError(
        f"{option} {text} is not inside any --subnet ({listed}); give a {option} inside one "
        "of them",
        option=option,
        value=text,
    )


def match_to_subnets(
    subnets: Sequence[IPNetwork], gateways: Sequence[str], ip_ranges: Sequence[str]
) -> list[SubnetSpec]:
    """Pair each ``--gateway`` and ``--ip-range`` with the subnet that contains it.

    A subnet may have at most one of each; the gateway defaults to the subnet's first address.
    """
    gws: dict[int, IPAddress] = {}
    for text in gateways:
        gw = _parse_address(text, "--gateway")
        i = _owner(gw, subnets, "--gateway", text)
        if i in gws:
            raise ValidationError(
                f"subnet {subnets[i]} has two gateways, {gws[i]} and {gw}; give one per subnet",
                option="--gateway",
                value=text,
            )
        net = subnets[i]
        if gw == net.network_address or (net.version == 4 and gw == net.broadcast_address):
            raise ValidationError(
                f"--gateway {gw} is the network or broadcast address of {net}; use a host address",
                option="--gateway",
                value=text,
            )
        gws[i] = gw
    ranges: dict[int, IPNetwork] = {}
    for text in ip_ranges:
        rng = parse_subnet(text, "--ip-range")
        i = _owner(rng, subnets, "--ip-range", text)
        if i in ranges:
            raise ValidationError(
                f"subnet {subnets[i]} has two ip-ranges, {ranges[i]} and {rng}; "
                "give one per subnet",
                option="--ip-range",
                value=text,
            )
        ranges[i] = rng
    return [
        SubnetSpec(net, gws.get(i, net.network_address + 1), ranges.get(i))
        for i, net in enumerate(subnets)
    ]


def _range(spec: SubnetSpec) -> dict[str, Any]:
    # keys sorted, as nerdctl marshals its range struct through a map
    out: dict[str, Any] = {"gateway": str(spec.gateway)}
    if spec.ip_range is not None:
        rng = spec.ip_range
        last = rng.broadcast_address
        if spec.subnet.version == 4 and last == spec.subnet.broadcast_address:
            last = last - 1  # host-local refuses the subnet's broadcast address (nerdctl defect)
        out["ipRange"] = str(rng)
        out["rangeEnd"] = str(last)
        out["rangeStart"] = str(rng.network_address + 1)
    out["subnet"] = str(spec.subnet)
    return out


def _routes(specs: Sequence[SubnetSpec], *, with_gw: bool) -> list[dict[str, str]]:
    routes: list[dict[str, str]] = []
    for version, dst in ((4, "0.0.0.0/0"), (6, "::/0")):
        first = next((s for s in specs if s.subnet.version == version), None)
        if first is None:
            continue
        route = {"dst": dst}
        if with_gw:
            route["gw"] = str(first.gateway)
        routes.append(route)
    return routes


def ipam_section(
    driver: str, specs: Sequence[SubnetSpec], *, default_route: bool = True
) -> dict[str, Any]:
    """The ``ipam`` object of a Linux network (keys sorted, like nerdctl writes them)."""
    if driver in ("default", "host-local"):
        out: dict[str, Any] = {"ranges": [[_range(s)] for s in specs]}
        if default_route:
            out["routes"] = _routes(specs, with_gw=False)
        out["type"] = "host-local"
        return out
    if driver == "static":
        # addresses come per attachment (the "ips" capability or CNI_ARGS IP=); "subnets" is
        # ctrnet's record of the network's subnets, ignored by the plugin like nerdctl's ipRange
        out = {}
        if default_route:
            out["routes"] = _routes(specs, with_gw=True)
        out["subnets"] = [str(s.subnet) for s in specs]
        out["type"] = "static"
        return out
    if driver == "dhcp":
        return {"daemonSocketPath": DHCP_SOCKET, "type": "dhcp"}
    raise UnsupportedOption(
        f"unsupported --ipam-driver {driver!r}; choose one of: " + ", ".join(IPAM_DRIVERS["linux"]),
        option="--ipam-driver",
        value=driver,
    )


def windows_ipam(spec: SubnetSpec) -> dict[str, Any]:
    """The nat plugin's ``ipam``: one subnet, the gateway under ``gw`` (the key it reads)."""
    return {"routes": [{"gw": str(spec.gateway)}], "subnet": str(spec.subnet), "type": ""}


def dhcp_hint(socket_path: str = DHCP_SOCKET) -> str | None:
    """A hint when the dhcp daemon's socket is missing (the network will not get addresses)."""
    if os.path.exists(socket_path):
        return None
    return (
        f"the dhcp IPAM plugin needs its daemon, but {socket_path} does not exist; start it with "
        f"'/usr/lib/cni/dhcp daemon --socketpath={socket_path} &' before attaching containers"
    )
