"""What the store knows about one network file: :class:`Network`."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctrnet._errors import InvalidConfig
from ctrnet.cni import NetworkConfigList
from ctrnet.networks._names import conflist_filename, network_id
from ctrnet.networks.conflist import DEFAULT_NETWORK_LABEL
from ctrnet.networks.subnets import IPAddress, IPNetwork

__all__ = ["IPAMEntry", "Network", "ipam_entries", "network_from_scan"]


@dataclass(frozen=True)
class IPAMEntry:
    """One subnet of a network as the file states it, with gateway and ip-range when present."""

    subnet: IPNetwork
    gateway: IPAddress | None = None
    ip_range: str | None = None


@dataclass(frozen=True)
class Network:
    """One CNI config file of the conf dir, managed (ctrnet/nerdctl) or foreign, valid or not.

    ``id`` is the nerdctlID, empty for files nerdctl/ctrnet did not write; ``error`` is set (and
    ``conflist`` is None) when the file cannot be parsed.
    """

    name: str
    id: str
    driver: str | None
    file: str
    labels: Mapping[str, str] = field(default_factory=dict)
    subnets: tuple[IPNetwork, ...] = ()
    gateways: tuple[IPAddress | None, ...] = ()
    conflist: NetworkConfigList | None = field(default=None, repr=False, compare=False)
    is_default: bool = False
    managed: bool = False
    error: str | None = None
    ipam: tuple[IPAMEntry, ...] = ()

    @property
    def first_plugin_type(self) -> str | None:
        if self.conflist is None or not self.conflist.plugins:
            return None
        return self.conflist.plugins[0].type

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def bridge(self) -> str | None:
        """The bridge device of a bridge network (the plugin's default is ``cni0``)."""
        if self.conflist is None or self.first_plugin_type != "bridge":
            return None
        return str(self.conflist.plugins[0].raw.get("bridge") or "cni0")

    @property
    def ipv6(self) -> bool:
        return any(s.version == 6 for s in self.subnets)

    @property
    def internal(self) -> bool:
        """A bridge network without gateway (``--internal``)."""
        if self.conflist is None or self.first_plugin_type != "bridge":
            return False
        return not self.conflist.plugins[0].raw.get("isGateway", False)


def _address(value: object) -> IPAddress | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _network(value: object) -> IPNetwork | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def ipam_entries(ipam: Mapping[str, Any]) -> Iterator[IPAMEntry]:
    """The subnets an ``ipam`` object names: host-local ranges or subnet, nat, static, ctrnet."""
    ranges = ipam.get("ranges")
    if isinstance(ranges, list):
        for rangeset in ranges:
            for rng in rangeset if isinstance(rangeset, list) else []:
                if not isinstance(rng, dict):
                    continue
                net = _network(rng.get("subnet"))
                if net is not None:
                    ipr = rng.get("ipRange")
                    yield IPAMEntry(net, _address(rng.get("gateway")), ipr if ipr else None)
    net = _network(ipam.get("subnet"))
    if net is not None:
        gw = _address(ipam.get("gateway"))
        for route in ipam.get("routes") or []:
            if gw is None and isinstance(route, dict):
                gw = _address(route.get("gw") or route.get("GW") or route.get("gateway"))
        yield IPAMEntry(net, gw)
    for text in ipam.get("subnets") or []:
        net = _network(text)
        if net is not None:
            yield IPAMEntry(net)
    for addr in ipam.get("addresses") or []:
        if isinstance(addr, dict) and isinstance(addr.get("address"), str):
            with contextlib.suppress(ValueError):
                iface = ipaddress.ip_interface(addr["address"])
                yield IPAMEntry(iface.network, _address(addr.get("gateway")))


def _labels(raw: Mapping[str, Any]) -> dict[str, str]:
    labels = raw.get("nerdctlLabels")
    if not isinstance(labels, dict):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def network_from_scan(path: str, item: NetworkConfigList | InvalidConfig) -> Network:
    """A :class:`Network` for one entry of ``ctrnet.cni.scan_dir``."""
    if isinstance(item, InvalidConfig):
        return _broken(path, item.reason)
    raw = item.raw
    ident = raw.get("nerdctlID")
    ident = ident if isinstance(ident, str) else ""
    labels = _labels(raw)
    entries: list[IPAMEntry] = []
    for plugin in item.plugins:
        ipam = plugin.raw.get("ipam")
        if isinstance(ipam, dict):
            entries.extend(ipam_entries(ipam))
    return Network(
        name=item.name,
        id=ident,
        driver=item.plugins[0].type if item.plugins else None,
        file=path,
        labels=labels,
        subnets=tuple(e.subnet for e in entries),
        gateways=tuple(e.gateway for e in entries),
        conflist=item,
        managed=bool(ident) and os.path.basename(path) == conflist_filename(item.name),
        ipam=tuple(entries),
        is_default=DEFAULT_NETWORK_LABEL in labels,
    )


def _broken(path: str, reason: str) -> Network:
    """A file that does not parse; its name and ID are recovered when the JSON allows it."""
    name = os.path.splitext(os.path.basename(path))[0].removeprefix("nerdctl-")
    ident = ""
    labels: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError), open(path, "rb") as fh:
        raw = json.loads(fh.read())
        if isinstance(raw, dict):
            if isinstance(raw.get("name"), str) and raw["name"]:
                name = raw["name"]
            if isinstance(raw.get("nerdctlID"), str):
                ident = raw["nerdctlID"]
            labels = _labels(raw)
    managed = ident == network_id(name) and os.path.basename(path) == conflist_filename(name)
    return Network(
        name=name, id=ident, driver=None, file=path, labels=labels, managed=managed, error=reason
    )
