"""The container files a sandbox owns (hosts, resolv.conf, hostname), its labels and OCI fragment.

Shared by the modes that own a namespace or use the host's (cni, none, ns, host); container mode
borrows its target's files instead.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ctrnet.manager import hostsync
from ctrnet.manager.hostname import effective_hostname, hostname_file_text
from ctrnet.manager.records import SandboxRecord
from ctrnet.manager.resolvconf import build_resolv_conf, read_host_resolv_conf

if TYPE_CHECKING:
    from ctrnet.manager.modes import Mode
    from ctrnet.manager.modes_impl.base import Context
    from ctrnet.manager.options import NetworkOptions

__all__ = [
    "HOSTNAME",
    "HOSTS",
    "RESOLV_CONF",
    "labels",
    "oci_spec",
    "plan",
    "write",
    "write_hosts",
    "write_static",
]

HOSTS = "hosts"
RESOLV_CONF = "resolv.conf"
HOSTNAME = "hostname"


def has_files(ctx: Context) -> bool:
    """Whether the platform mounts container files at all (not on Windows)."""
    return ctx.settings.platform == "linux"


def plan(ctx: Context, record: SandboxRecord, opts: NetworkOptions) -> None:
    """Decide hostname and file paths (nothing is written yet)."""
    record.domainname = opts.domainname
    record.uts = opts.uts
    record.extra_hosts = [str(h) for h in opts.extra_hosts]
    if opts.uts == "host":
        record.hostname = os.uname().nodename
    elif record.mode == "host":
        record.hostname = opts.hostname or os.uname().nodename
    else:
        record.hostname = effective_hostname(record.id, opts.hostname)
    if not has_files(ctx):
        return
    directory = ctx.store.dir_of(record.id)
    record.hosts_path = str(directory / HOSTS)
    record.resolv_conf_path = str(directory / RESOLV_CONF)
    if opts.uts != "host":
        record.hostname_path = str(directory / HOSTNAME)


def write(ctx: Context, record: SandboxRecord, opts: NetworkOptions) -> None:
    """Write resolv.conf and hostname; the hosts file is written when the record turns ready."""
    write_static(ctx, record, opts)
    write_hosts(ctx, record)


def write_static(ctx: Context, record: SandboxRecord, opts: NetworkOptions) -> None:
    """Write resolv.conf and hostname, which depend on the options only (not on CNI results)."""
    if not has_files(ctx):
        return
    resolv = build_resolv_conf(
        read_host_resolv_conf(ctx.host_resolv_conf, ctx.resolved_resolv_conf),
        servers=opts.dns_servers,
        search=opts.dns_search,
        options=opts.dns_options,
        allow_localhost=record.mode == "host",
    )
    ctx.store.write_file(record.id, RESOLV_CONF, resolv)
    if record.hostname_path:
        ctx.store.write_file(record.id, HOSTNAME, hostname_file_text(record.hostname))


def write_hosts(ctx: Context, record: SandboxRecord) -> None:
    """Write the sandbox's first hosts file (it needs the addresses the networks gave)."""
    if not has_files(ctx):
        return
    hostsync.create_hosts_file(
        ctx.store,
        record,
        host_mode=record.mode == "host",
        default_network=ctx.platform.default_network,
    )


def labels(ctx: Context, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> dict[str, str]:
    """nerdctl's networking labels for the record (persisted, and the OCI annotations)."""
    from ctrnet.manager.labels import network_labels

    return network_labels(
        opts,
        mode,
        sandbox_id=record.id,
        name=record.name,
        hostname=record.hostname,
        ports=record.ports,
        netns=record.netns,
    )


def oci_spec(ctx: Context, record: SandboxRecord) -> dict[str, Any]:
    """The OCI fragment for the record."""
    from ctrnet.manager.labels import NETWORK_NAMESPACE
    from ctrnet.manager.ocispec import build_fragment

    annotations = dict(record.labels)
    if record.netns and record.mode != "host":
        annotations[NETWORK_NAMESPACE] = record.netns
    return build_fragment(
        platform=record.platform,
        mode=record.mode,
        netns=record.netns,
        hostname=record.hostname,
        domainname=record.domainname,
        uts=record.uts,
        hosts_path=record.hosts_path,
        resolv_conf_path=record.resolv_conf_path,
        hostname_path=record.hostname_path,
        annotations=annotations,
    )
