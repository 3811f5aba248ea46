"""Keeping every sandbox's /etc/hosts current as sandboxes join and leave networks.

The caller holds the store-wide lock (``RecordStore.lock_all``) around :func:`sync`, so two
syncs never interleave; files are rewritten in place because they are bind-mounted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from ctrnet._fs import atomic_write
from ctrnet.manager.extrahosts import ExtraHost
from ctrnet.manager.hostsfile import (
    HostsPeer,
    LineCache,
    hosts_block,
    render_hosts,
    rewrite_hosts_file,
)
from ctrnet.manager.records import RecordStore, SandboxRecord

__all__ = ["HOST_HOSTS", "create_hosts_file", "peer_of", "sync"]

#: the host's hosts file, copied (never modified) for host-mode sandboxes
HOST_HOSTS = "/etc/hosts"


def peer_of(record: SandboxRecord) -> HostsPeer:
    """How ``record`` appears in other sandboxes' hosts files."""
    return HostsPeer(
        hostname=record.hostname,
        name=record.name,
        addresses={att.network: list(att.ips) for att in record.networks},
    )


def _extra_hosts(record: SandboxRecord) -> list[ExtraHost]:
    out = []
    for text in record.extra_hosts:
        host, _, ip = text.partition(":")
        out.append(ExtraHost(host=host, ip=ip))
    return out


def _default_network(records: Iterable[SandboxRecord], fallback: str) -> str:
    for record in records:
        for att in record.networks:
            if att.is_default:
                return att.network
    return fallback


def _block(
    me: HostsPeer,
    record: SandboxRecord,
    peers: Sequence[HostsPeer],
    default_network: str,
    cache: LineCache | None = None,
) -> str:
    return hosts_block(
        me, peers, _extra_hosts(record), default_network=default_network, cache=cache
    )


def create_hosts_file(
    store: RecordStore,
    record: SandboxRecord,
    *,
    host_mode: bool = False,
    default_network: str = "bridge",
) -> None:
    """Write a sandbox's first hosts file (the host's lines first in host mode)."""
    if not record.hosts_path:
        return
    base = ""
    if host_mode:
        with contextlib.suppress(OSError):
            base = Path(HOST_HOSTS).read_text()
    default = _default_network([record], default_network)
    text = render_hosts(base, _block(peer_of(record), record, [], default))
    atomic_write(record.hosts_path, text, durable=False)  # a reboot ends the sandbox


def sync(store: RecordStore, networks: Sequence[str], *, default_network: str = "bridge") -> int:
    """Rewrite the hosts file of every ready sandbox on one of ``networks``; how many changed."""
    if not networks:
        return 0
    wanted = set(networks)
    records = [r for r in store.all() if r.state == "ready" and r.mode != "container"]
    default = _default_network(records, default_network)
    peers = [peer_of(r) for r in records]  # each rendered once for all the blocks (cache)
    cache: LineCache = {}
    changed = 0
    for record, me in zip(records, peers, strict=True):
        if not record.hosts_path or not wanted.intersection(record.network_names()):
            continue
        with contextlib.suppress(FileNotFoundError):
            block = _block(me, record, peers, default, cache)
            rewrite_hosts_file_existing(record.hosts_path, block)
            changed += 1
    return changed


def rewrite_hosts_file_existing(path: str, block: str) -> None:
    """Like ``rewrite_hosts_file`` but never creates a file that a teardown just removed."""
    if not Path(path).exists():
        raise FileNotFoundError(path)
    rewrite_hosts_file(path, block)
