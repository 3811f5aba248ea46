"""``verify``: the per-platform rules a networking request must pass before anything is done.

Linux follows nerdctl's validation matrix with the v2 behaviour (options a mode cannot use are
accepted with a warning) plus fixes: unknown networks fail here, ``--ip`` / ``--ip6`` go only to
the network whose subnet holds them, ``--mac-address`` needs a bridge or macvlan first plugin on
every network, ``--hostname`` / ``--domainname`` with ``--uts=host`` are refused. Windows accepts
only ``nat`` CNI networks and refuses its unsupported flags in one error.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from ctrnet._errors import UnsupportedOption, ValidationError
from ctrnet.manager.modes import Attachment, Mode, NetworkLike, mode_of
from ctrnet.manager.options import NetworkOptions
from ctrnet.platform import Platform

__all__ = ["CONTAINER_MODE_REFUSED", "verify"]

#: flags refused with ``--network container:<id>``, in the order the message lists them
CONTAINER_MODE_REFUSED = ("--hostname", "--domainname", "--publish", "--dns", "--add-host")
#: flags a mode accepts but has no use for (reported as warnings)
_IGNORED: dict[str, tuple[str, ...]] = {
    "none": ("--ip", "--ip6", "--mac-address", "--publish"),
    "host": ("--ip", "--ip6", "--mac-address", "--publish"),
    "ns": ("--ip", "--ip6", "--mac-address", "--publish"),
    "container": ("--ip", "--ip6", "--mac-address", "--dns-search", "--dns-opt"),
    "cni": (),
}


def verify(opts: NetworkOptions, platform: Platform, lookup: Callable[[str], NetworkLike]) -> Mode:
    """Check ``opts`` against ``platform``'s rules; the resolved :class:`Mode` or an error.

    ``lookup(ref)`` resolves a network name, full ID or ID prefix (``NetworkStore.get``); its
    ``NetworkNotFound`` propagates. Nothing on the host is read or changed here.
    """
    mode = mode_of(opts.networks, platform.default_network)
    if not platform.mode_allowed(mode.kind):
        raise UnsupportedOption(
            platform.refused_mode_message(mode.kind),
            option="--network",
            value=list(mode.refs),
            platform=platform.name,
        )
    given = opts.given()
    refused = platform.unsupported_args_error(given)
    if refused is not None:
        raise refused
    if mode.kind == "container":
        bad = [flag for flag in CONTAINER_MODE_REFUSED if flag in given]
        if bad:
            raise ValidationError(
                "conflicting options: the following arguments are not supported when using "
                f"`--network=container:<container>`: [{' '.join(bad)}]",
                option=bad[0],
                value=bad,
            )
    if opts.uts == "host" and (opts.hostname or opts.domainname):
        raise ValidationError(
            "conflicting options: cannot set --hostname and/or --domainname with --uts=host; "
            "drop one of them",
            option="--hostname" if opts.hostname else "--domainname",
            value=opts.hostname or opts.domainname,
        )
    warnings = tuple(
        f"{flag} is ignored with --network {mode.refs[0]}"
        for flag in _IGNORED[mode.kind]
        if flag in given
    )
    if mode.kind != "cni":
        return Mode(kind=mode.kind, refs=mode.refs, target=mode.target, warnings=warnings)
    networks = _resolve(mode.refs, lookup)
    _check_types(networks, platform)
    if opts.mac_address is not None:
        _check_mac(networks, platform)
    ip_net = _network_for(opts.ip, networks, "--ip") if opts.ip else None
    ip6_net = _network_for(opts.ip6, networks, "--ip6") if opts.ip6 else None
    attachments = tuple(
        Attachment(
            network=net,
            ifname=f"{platform.ifname_prefix}{i}",
            ip=opts.ip if net is ip_net else None,
            ip6=opts.ip6 if net is ip6_net else None,
            mac=opts.mac_address,
        )
        for i, net in enumerate(networks)
    )
    return Mode(kind="cni", refs=mode.refs, attachments=attachments, warnings=warnings)


def _resolve(refs: Sequence[str], lookup: Callable[[str], NetworkLike]) -> list[NetworkLike]:
    networks: list[NetworkLike] = []
    by_name: dict[str, str] = {}
    for ref in refs:
        net = lookup(ref)
        if net.error:
            raise ValidationError(
                f"network {ref!r} cannot be used: {net.error}; fix or remove its config file",
                option="--network",
                value=ref,
            )
        if net.name in by_name:
            raise ValidationError(
                f"network {net.name!r} is given twice (as {by_name[net.name]!r} and {ref!r}); "
                "a sandbox joins each network once",
                option="--network",
                value=ref,
            )
        by_name[net.name] = ref
        networks.append(net)
    return networks


def _check_types(networks: Sequence[NetworkLike], platform: Platform) -> None:
    allowed = platform.network_plugin_types
    if not allowed:
        return
    for net in networks:
        if net.first_plugin_type not in allowed:
            raise UnsupportedOption(
                f"network {net.name!r} has type {net.first_plugin_type!r}, which is not supported "
                f"on {platform.display_name}; use a network of type "
                f"{' or '.join(repr(t) for t in allowed)}",
                option="--network",
                value=net.name,
                platform=platform.name,
                driver=net.first_plugin_type,
            )


def _check_mac(networks: Sequence[NetworkLike], platform: Platform) -> None:
    allowed = platform.mac_address_plugin_types
    for net in networks:
        if net.first_plugin_type not in allowed:
            raise UnsupportedOption(
                f"network type {net.first_plugin_type!r} is not supported for --mac-address on "
                f"network {net.name!r}, must be one of: [{' '.join(allowed)}]",
                option="--mac-address",
                value=net.name,
                platform=platform.name,
                driver=net.first_plugin_type,
            )


def _network_for(ip: str, networks: Sequence[NetworkLike], option: str) -> NetworkLike:
    """The first network with a subnet holding ``ip``; else the first whose subnets are unknown."""
    addr = ipaddress.ip_address(ip)
    for net in networks:
        if any(addr in subnet for subnet in net.subnets if subnet.version == addr.version):
            return net
    for net in networks:
        if not net.subnets:
            return net
    described = ", ".join(
        f"{n.name} ({' '.join(str(s) for s in n.subnets) or 'no subnets'})" for n in networks
    )
    raise ValidationError(
        f"{option} {ip} is not inside a subnet of the selected networks: {described}; "
        "pick an address in one of them",
        option=option,
        value=ip,
    )
