"""The sandbox's ``/etc/hosts``: nerdctl's managed block, rendered from who shares a network.

``hosts_block`` is pure: this sandbox, the other sandboxes with their IPs per network, and the
extra hosts in; the block's text out. ``render_hosts`` puts the block into existing file text,
keeping user lines outside it; ``rewrite_hosts_file`` does that in place (same inode, because the
file is bind-mounted into running containers).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ctrnet.manager.extrahosts import ExtraHost

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "HostsPeer",
    "LineCache",
    "hosts_block",
    "render_hosts",
    "rewrite_hosts_file",
]

BEGIN_MARKER = "# <nerdctl>"
END_MARKER = "# </nerdctl>"
_LOCALHOST = (
    "127.0.0.1\tlocalhost localhost.localdomain",
    "::1\t\tlocalhost localhost.localdomain",
)


@dataclass(frozen=True, kw_only=True)
class HostsPeer:
    """A sandbox as the hosts file sees it: names and addresses per network.

    Addresses may carry a prefix length (``10.4.0.5/24``, as CNI results give them).
    """

    hostname: str
    name: str = ""
    addresses: Mapping[str, Sequence[str]] = field(default_factory=dict)


#: (id of a peer, network, default network) -> that peer's (ip, line) pairs on the network: see
#: ``hosts_block``'s ``cache``
LineCache = dict[tuple[int, str, str], list[tuple[str, str]]]


def hosts_block(
    me: HostsPeer,
    peers: Sequence[HostsPeer] = (),
    extra_hosts: Sequence[ExtraHost] = (),
    *,
    default_network: str = "bridge",
    cache: LineCache | None = None,
) -> str:
    """The managed block for ``me``: localhost, extra hosts, then every sandbox on a shared network.

    Each address line lists ``hostname``, ``hostname.<network>``, ``name``, ``name.<network>``
    (no suffix on ``default_network``). ``me`` comes first, then ``peers`` in the given order; an
    address is listed once. Sandboxes on networks ``me`` is not on are never listed.
    ``cache``: one dict shared by the calls for a batch of blocks over the same peer objects
    (every sandbox of a network), so that each peer's lines are rendered once, not once a block.
    """
    lines = [BEGIN_MARKER, *_LOCALHOST]
    lines.extend(_line(h.ip, h.host) for h in extra_hosts)
    shared = list(me.addresses)
    seen: set[str] = set()
    for peer in [me, *(p for p in peers if p is not me)]:
        for network in shared:
            for ip, line in _peer_lines(peer, network, default_network, cache):
                if ip not in seen:
                    seen.add(ip)
                    lines.append(line)
    lines.append(END_MARKER)
    return "".join(line + "\n" for line in lines)


def _peer_lines(
    peer: HostsPeer, network: str, default_network: str, cache: LineCache | None
) -> list[tuple[str, str]]:
    """``peer``'s (ip, line) pairs on ``network``: valid addresses, and only if it has names."""
    key = (id(peer), network, default_network)
    if cache is not None and key in cache:
        return cache[key]
    out: list[tuple[str, str]] = []
    names = _names(peer, network, default_network)
    if names:
        for address in peer.addresses.get(network, ()):
            ip = _bare_ip(address)
            if ip is not None:
                out.append((ip, _line(ip, " ".join(names))))
    if cache is not None:
        cache[key] = out
    return out


def render_hosts(existing: str, block: str) -> str:
    """``existing`` with its managed block replaced by ``block`` (appended when there was none)."""
    before: list[str] = []
    after: list[str] = []
    state = "before"
    for line in existing.splitlines():
        marker = line.strip()
        if state != "inside" and marker == BEGIN_MARKER:
            state = "inside"
        elif state == "inside":
            if marker == END_MARKER:
                state = "after"
        elif state == "before":
            before.append(line)
        else:
            after.append(line)
    if state == "before":
        head = "".join(line + "\n" for line in before)
        return head + block
    return "".join(line + "\n" for line in before) + block + "".join(line + "\n" for line in after)


def rewrite_hosts_file(path: str, block: str) -> None:
    """Replace the managed block of the file at ``path`` in place, keeping its inode.

    A file that already holds exactly that text is left alone. Not fsynced: a hosts file serves
    a sandbox that a reboot ends.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        current = fh.read()
        text = render_hosts(current, block)
        if text == current:
            return
        fh.seek(0)
        fh.write(text)
        fh.truncate()


def _names(peer: HostsPeer, network: str, default_network: str) -> list[str]:
    names: list[str] = []
    for base in dict.fromkeys(b for b in (peer.hostname, peer.name) if b):
        names.append(base)
        if network != default_network:
            names.append(f"{base}.{network}")
    return names


def _bare_ip(address: str) -> str | None:
    try:
        ip = ipaddress.ip_interface(address).ip
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified:
        return None
    return str(ip)


def _line(ip: str, names: str) -> str:
    return f"{ip:<15} {names}"
