"""Keeping every sandbox's /etc/hosts current as sandboxes join and leave networks.

The caller holds the store-wide lock (``RecordStore.lock_all``) around :func:`sync`, so two
syncs never interleave; files are rewritten in place because they are bind-mounted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from ctrnet._fs import atomic_write
from ctrnet.manager.extrahosts import ExtraHost
from ctrnet.manager.hostsfile import HostsPeer, hosts_block, render_hosts, rewrite_hosts_file
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


def _block(record: SandboxRecord, records: Sequence[SandboxRecord], default_network: str) -> str:
    peers = [peer_of(r) for r in records if r.id != record.id and r.state == "ready"]
    return hosts_block(
        peer_of(record), peers, _extra_hosts(record), default_network=default_network
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
    atomic_write(record.hosts_path, render_hosts(base, _block(record, [], default)))


def sync(store: RecordStore, networks: Sequence[str], *, default_network: str = "bridge") -> int:
    """Rewrite the hosts file of every ready sandbox on one of ``networks``; how many changed."""
    if not networks:
        return 0
    wanted = set(networks)
    records = [r for r in store.all() if r.state == "ready" and r.mode != "container"]
    default = _default_network(records, default_network)
    jobs = [
        (record.hosts_path, _block(record, records, default))
        for record in records
        if record.hosts_path and wanted.intersection(record.network_names())
    ]
    return _rewrite_all(jobs)


#: at most this many hosts files are rewritten at once (their fsyncs then share disk flushes)
_PARALLEL_REWRITES = 8


def _rewrite_all(jobs: Sequence[tuple[str, str]]) -> int:
    """Rewrite every ``(path, block)``; how many files existed. Several at once when there are
    many, so that a network with N sandboxes does not pay N fsyncs one after another."""
    if len(jobs) <= 1:
        return sum(_rewrite_one(path, block) for path, block in jobs)
    pending = list(jobs)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not pending or errors:
                    return
                path, block = pending.pop()
            try:
                done = _rewrite_one(path, block)
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.append(done)

    threads = [
        threading.Thread(target=worker, name="ctrnet-hosts", daemon=True)
        for _ in range(min(_PARALLEL_REWRITES, len(jobs)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(results)


def _rewrite_one(path: str, block: str) -> int:
    try:
        rewrite_hosts_file_existing(path, block)
    except FileNotFoundError:
        return 0
    return 1


def rewrite_hosts_file_existing(path: str, block: str) -> None:
    """Like ``rewrite_hosts_file`` but never creates a file that a teardown just removed."""
    if not Path(path).exists():
        raise FileNotFoundError(path)
    rewrite_hosts_file(path, block)
