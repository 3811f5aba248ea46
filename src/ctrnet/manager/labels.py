"""nerdctl's networking labels (copied into OCI annotations): keys and value encodings.

Values are what nerdctl v1.7/v2 write, with Go's compact JSON, so nerdctl's tooling (and its OCI
hook) can read sandboxes ctrnet made. ``nerdctl/networks`` holds network *names* (normalized from
IDs), which nerdctl recommends but does not do itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ctrnet.manager.extrahosts import extra_hosts_label
from ctrnet.manager.modes import Mode
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.ports import PortMapping, ports_label

__all__ = [
    "DNS",
    "DOMAINNAME",
    "EXTRA_HOSTS",
    "HOSTNAME",
    "IP",
    "IP6",
    "MAC_ADDRESS",
    "NAME",
    "NETWORKS",
    "NETWORK_NAMESPACE",
    "PORTS",
    "network_labels",
]

NETWORKS = "nerdctl/networks"
PORTS = "nerdctl/ports"
HOSTNAME = "nerdctl/hostname"
DOMAINNAME = "nerdctl/domainname"
NAME = "nerdctl/name"
IP = "nerdctl/ip"
IP6 = "nerdctl/ip6"
MAC_ADDRESS = "nerdctl/mac-address"
EXTRA_HOSTS = "nerdctl/extraHosts"
NETWORK_NAMESPACE = "nerdctl/network-namespace"
DNS = "nerdctl/dns"


def network_labels(
    opts: NetworkOptions,
    mode: Mode,
    *,
    sandbox_id: str = "",
    name: str = "",
    hostname: str = "",
    ports: Sequence[PortMapping | Mapping[str, Any]] = (),
    netns: str = "",
) -> dict[str, str]:
    """The labels for a sandbox: the effective hostname, resolved ports, normalized networks.

    Optional keys (ports, ip, ip6, mac, domainname, name, dns, network-namespace) appear only when
    they have a value; the MAC only in CNI mode, where it is used. ``sandbox_id`` is accepted for
    symmetry with the manager and is not itself a label.
    """
    del sandbox_id
    labels = {
        NETWORKS: _json(mode.label_value()),
        HOSTNAME: hostname,
        EXTRA_HOSTS: extra_hosts_label(opts.extra_hosts),
    }
    mappings = [p if isinstance(p, PortMapping) else PortMapping.from_dict(p) for p in ports]
    if mappings:
        labels[PORTS] = ports_label(mappings)
    if name:
        labels[NAME] = name
    if opts.domainname:
        labels[DOMAINNAME] = opts.domainname
    if opts.ip:
        labels[IP] = opts.ip
    if opts.ip6:
        labels[IP6] = opts.ip6
    if opts.mac_address and mode.kind == "cni":
        labels[MAC_ADDRESS] = opts.mac_address
    if opts.dns_servers or opts.dns_search or opts.dns_options:
        labels[DNS] = _json(
            {
                "DNSServers": list(opts.dns_servers) or None,
                "DNSResolvConfOptions": list(opts.dns_options) or None,
                "DNSSearchDomains": list(opts.dns_search) or None,
            }
        )
    if netns:
        labels[NETWORK_NAMESPACE] = netns
    return labels


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
