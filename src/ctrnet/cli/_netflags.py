"""nerdctl's networking flags as one click decorator, shared by ``verify``, ``setup`` and ``run``.

``@network_flags`` adds the flags and hands the command a parsed ``network_options``
(:class:`ctrnet.manager.NetworkOptions`) instead of the raw values. ``-h`` stays help (as
everywhere in ctrnet), so the hostname is ``--hostname`` only, unlike nerdctl's ``-h``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["NETWORK_FLAG_NAMES", "default_host_gateway_ip", "network_flags"]

F = TypeVar("F", bound=Callable[..., Any])

#: the keyword arguments the decorator consumes
NETWORK_FLAG_NAMES = (
    "network",
    "net",
    "publish",
    "ip",
    "ip6",
    "mac_address",
    "hostname",
    "domainname",
    "dns",
    "dns_search",
    "dns_opt",
    "dns_option",
    "add_host",
    "uts",
    "host_gateway_ip",
)

_OPTIONS = [
    click.option(
        "-n",
        "--network",
        multiple=True,
        metavar="NET",
        help="Network to join: a name, ID or ID prefix (repeatable, or a,b), none, host, "
        "container:<id|name> or ns:<path>. Default: the platform's default network.",
    ),
    click.option("--net", multiple=True, metavar="NET", hidden=True, help="Alias of --network."),
    click.option(
        "-p",
        "--publish",
        multiple=True,
        metavar="SPEC",
        help="Publish ports: [ip:][hostPort[-end]:]containerPort[-end][/tcp|udp|sctp]; "
        "IPv6 host addresses in brackets; no host port picks a free one.",
    ),
    click.option(
        "--ip",
        default=None,
        metavar="IPV4",
        help="Static IPv4 address (given to the network whose subnet holds it).",
    ),
    click.option(
        "--ip6",
        default=None,
        metavar="IPV6",
        help="Static IPv6 address (given to the network whose subnet holds it).",
    ),
    click.option(
        "--mac-address",
        default=None,
        metavar="MAC",
        help="MAC address (bridge and macvlan networks).",
    ),
    click.option(
        "--hostname", default=None, help="Hostname (default: the first 12 characters of the ID)."
    ),
    click.option("--domainname", default=None, help="NIS domain name of the sandbox."),
    click.option("--dns", multiple=True, metavar="IP", help="DNS server (repeatable)."),
    click.option(
        "--dns-search", multiple=True, metavar="DOMAIN", help="DNS search domain (repeatable)."
    ),
    click.option(
        "--dns-opt",
        multiple=True,
        metavar="OPT",
        help="resolv.conf option, e.g. ndots:2 (repeatable).",
    ),
    click.option(
        "--dns-option", multiple=True, metavar="OPT", hidden=True, help="Alias of --dns-opt."
    ),
    click.option(
        "--add-host",
        multiple=True,
        metavar="HOST:IP",
        help="Extra /etc/hosts entry; IP may be host-gateway (repeatable).",
    ),
    click.option(
        "--uts",
        default=None,
        type=click.Choice(["host"]),
        help="Use the host's UTS namespace (and hostname).",
    ),
    click.option(
        "--host-gateway-ip",
        default=None,
        envvar="CTRNET_HOST_GATEWAY_IP",
        metavar="IP",
        help="The address host-gateway stands for [env CTRNET_HOST_GATEWAY_IP; default: the "
        "host's first non-loopback IPv4 address].",
    ),
]


def network_flags(func: F) -> F:
    """Add the networking flags to a click command; it receives ``network_options`` instead."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["network_options"] = options_from_flags(
            {name: kwargs.pop(name) for name in NETWORK_FLAG_NAMES}
        )
        return func(*args, **kwargs)

    command: Any = wrapper
    for option in reversed(_OPTIONS):
        command = option(command)
    return command  # type: ignore[no-any-return]


def options_from_flags(values: dict[str, Any]) -> Any:
    """Parse raw flag values into ``NetworkOptions`` (errors name the flag and value)."""
    from ctrnet.manager.options import NetworkOptions

    add_host = tuple(values["add_host"])
    gateway = values["host_gateway_ip"]
    if gateway is None and any(h.rpartition(":")[2].strip() == "host-gateway" for h in add_host):
        gateway = default_host_gateway_ip()
    return NetworkOptions.parse(
        networks=(*values["network"], *values["net"]),
        publish=values["publish"],
        add_host=add_host,
        host_gateway_ip=gateway,
        hostname=values["hostname"],
        domainname=values["domainname"],
        uts=values["uts"],
        ip=values["ip"],
        ip6=values["ip6"],
        mac_address=values["mac_address"],
        dns=values["dns"],
        dns_search=values["dns_search"],
        dns_options=(*values["dns_opt"], *values["dns_option"]),
    )


def default_host_gateway_ip() -> str | None:
    """The host's first non-loopback IPv4 address (by interface index), as nerdctl picks it."""
    import fcntl
    import socket
    import struct

    siocgifaddr = 0x8915
    try:
        interfaces = sorted(socket.if_nameindex())
    except OSError:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in interfaces:
            if name == "lo":
                continue
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(sock.fileno(), siocgifaddr, request)
            except OSError:
                continue
            address = socket.inet_ntoa(reply[20:24])
            if not address.startswith("127."):
                return address
    return None
