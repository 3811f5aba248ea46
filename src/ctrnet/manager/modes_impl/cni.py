"""CNI mode: a namespace of our own, one CNI network per interface, published ports."""

from __future__ import annotations

import ipaddress
import threading
from typing import TYPE_CHECKING, Any

from ctrnet._errors import CtrnetError, PluginError
from ctrnet.manager.labels import NETWORK_NAMESPACE
from ctrnet.manager.modes_impl import files
from ctrnet.manager.modes_impl.base import ModeImpl, pause_point
from ctrnet.manager.records import AttachmentRecord, SandboxRecord
from ctrnet.platform import AllocatingNamespaceBackend

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from ipaddress import IPv4Network, IPv6Network

    from ctrnet.cni import NetworkConfigList, RuntimeConf
    from ctrnet.cni.spec import Result
    from ctrnet.manager.modes import Mode
    from ctrnet.manager.modes_impl.base import Context
    from ctrnet.manager.options import NetworkOptions

__all__ = ["CniMode", "attachment_runtime_conf"]


class CniMode(ModeImpl):
    """``--network NET...`` (and the default network): CNI ADD into a namespace ctrnet owns."""

    kind = "cni"

    def plan(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> None:
        record.netns = self.ctx.planned_netns_path(record.id)
        backend = self.ctx.backend
        if not record.netns and isinstance(backend, AllocatingNamespaceBackend):
            # Windows: the GUID is picked now, so the record names the namespace before it exists
            record.netns = backend.allocate(self.ctx.netns_name(record.id))
        record.netns_owned = True
        ports = record.ports
        for att in mode.attachments:
            net: Any = att.network
            conflist: NetworkConfigList | None = getattr(net, "conflist", None)
            if conflist is None:
                raise CtrnetError(f"network {net.name!r} has no usable configuration")
            args: list[tuple[str, str]] = []
            caps: dict[str, Any] = {}
            if _ipam_type(conflist) == "static":
                _static_addresses(att.ip, att.ip6, net, conflist, args, caps)
            else:
                if att.ip:
                    args.append(("IP", att.ip))
                if att.ip6:
                    caps["ips"] = [att.ip6]
            if att.mac:
                args.append(("MAC", att.mac))
            if ports:
                caps["portMappings"] = list(ports)
            record.networks.append(
                AttachmentRecord(
                    network=net.name,
                    network_id=str(getattr(net, "id", "") or ""),
                    ifname=att.ifname,
                    conflist=conflist.data.decode(),
                    conflist_file=getattr(net, "file", None) or conflist.path,
                    is_default=bool(getattr(net, "is_default", False)),
                    args=args,
                    capability_args=caps,
                )
            )
        files.plan(self.ctx, record, opts)

    def setup(
        self,
        record: SandboxRecord,
        opts: NetworkOptions,
        mode: Mode,
        record_on_disk: Callable[[], None],
    ) -> None:
        ctx = self.ctx
        from ctrnet.cni import conflist_from_bytes

        def prepare() -> None:
            """What the first ADD needs, done while its first plugin starts up."""
            backend = ctx.backend
            name = ctx.netns_name(record.id)
            if record.netns and isinstance(backend, AllocatingNamespaceBackend):
                path = backend.create(name, record.netns)
            else:
                path = backend.create(name)
            if path != record.netns:
                record.netns = path
                ctx.store.save(record)
            pause_point("netns")
            backend.set_loopback_up(path)
            # resolv.conf and hostname do not depend on the ADD results. Written here, not in a
            # thread during the ADDs: unsynced they take ~0.2 ms, less than the thread's start
            # and its contention with the plugin calls
            files.write_static(ctx, record, opts)
            record_on_disk()  # synced while the namespace was made; the ADDs make leases

        # with the namespace's path planned, the first plugin starts while it is made
        planned = record.netns
        if not planned or not record.networks:
            prepare()
        for i, att in enumerate(record.networks):
            conf = conflist_from_bytes(att.conflist.encode(), att.conflist_file)

            def tried(att: AttachmentRecord = att, first: bool = i == 0) -> None:
                if first and planned:
                    prepare()
                    if record.netns != planned:  # the started plugin was told the planned one
                        raise CtrnetError(
                            f"the namespace backend made {record.netns}, not the planned "
                            f"{planned}; report this as a bug"
                        )
                att.added = True  # tried: a rollback DELs it even if ADD is interrupted

            try:
                result = ctx.cni.add(conf, attachment_runtime_conf(record, att), before=tried)
            except PluginError as exc:
                _add_dhcp_hint(exc, conf)
                raise
            _fill_from_result(att, result)
            pause_point(f"add:{i}")
        files.write_hosts(ctx, record)

    def cleanup(self, record: SandboxRecord) -> list[BaseException]:
        ctx = self.ctx
        errors = _delete_networks(ctx, record)
        # the record's namespace; its nerdctl/network-namespace label names the same one
        netns = record.netns or record.labels.get(NETWORK_NAMESPACE, "")
        # after a failed DEL the namespace stays for the retry: a DEL without it leaks rules
        if record.netns_owned and netns and not errors:
            try:
                ctx.backend.remove(netns)
            except CtrnetError as exc:
                errors.append(exc)
        return errors


def _delete_networks(ctx: Context, record: SandboxRecord) -> list[BaseException]:
    """DEL every network of ``record``; the errors, last network first.

    Several networks are DELeted at once (each chain still in reverse plugin order): they share
    nothing but the namespace, which stays until every DEL is done, since a DEL into a vanished
    namespace leaks the bridge plugin's masquerade rules.
    """
    from ctrnet.cni import conflist_from_bytes

    cni = ctx.cni  # built here, once, not by the threads
    atts = list(reversed(record.networks))
    outcome: list[BaseException | None] = [None] * len(atts)

    def delete(i: int) -> None:
        att = atts[i]
        try:
            conf = conflist_from_bytes(att.conflist.encode(), att.conflist_file)
            cni.delete(conf, attachment_runtime_conf(record, att))
        except BaseException as exc:
            outcome[i] = exc

    if len(atts) == 1:
        delete(0)
    else:
        threads = [
            threading.Thread(target=delete, args=(i,), name="ctrnet-del", daemon=True)
            for i in range(len(atts))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    errors = [exc for exc in outcome if exc is not None]
    for exc in errors:
        if not isinstance(exc, CtrnetError):
            raise exc  # a bug, not a DEL failure: as before, it propagates
    return errors


def attachment_runtime_conf(record: SandboxRecord, att: AttachmentRecord) -> RuntimeConf:
    """The RuntimeConf of one attachment; the same at ADD and DEL (real netns, same args)."""
    from ctrnet.cni import RuntimeConf

    return RuntimeConf(
        container_id=record.id,
        netns=record.netns,
        ifname=att.ifname,
        args=tuple(att.args),
        capability_args=dict(att.capability_args),
    )


def _fill_from_result(att: AttachmentRecord, result: Result) -> None:
    """Addresses, gateways and MAC of ``att.ifname`` from an ADD result."""
    index = None
    for i, iface in enumerate(result.interfaces):
        if iface.name == att.ifname and iface.sandbox:
            index = i
            att.mac = iface.mac or ""
            break
    ips: list[str] = []
    gateways: list[str] = []
    for ipc in result.ips:
        if ipc.interface is not None and index is not None and ipc.interface != index:
            continue
        ips.append(str(ipc.address))
        if ipc.gateway is not None:
            gateways.append(str(ipaddress.ip_address(ipc.gateway)))
    att.ips = ips
    att.gateways = gateways


def _ipam(conflist: NetworkConfigList) -> dict[str, Any]:
    """The ``ipam`` object of the list's first plugin that has one."""
    for plugin in conflist.plugins:
        ipam = plugin.raw.get("ipam")
        if isinstance(ipam, dict) and ipam:
            return ipam
    return {}


def _ipam_type(conflist: NetworkConfigList) -> str:
    return str(_ipam(conflist).get("type") or "")


def _with_prefix(address: str, subnets: Sequence[IPv4Network | IPv6Network]) -> str:
    """``address`` with the prefix length of the subnet holding it (the static plugin wants CIDR).

    An address that already has one, or that no subnet holds, is passed unchanged (the plugin then
    names it in its error).
    """
    if "/" in address:
        return address
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    for subnet in subnets:
        if ip.version == subnet.version and ip in subnet:
            return f"{ip}/{subnet.prefixlen}"
    return address


def _static_addresses(
    ip: str | None,
    ip6: str | None,
    net: Any,
    conflist: NetworkConfigList,
    args: list[tuple[str, str]],
    caps: dict[str, Any],
) -> None:
    """Pass ``--ip`` / ``--ip6`` the way the static IPAM plugin reads them.

    It wants CIDR notation, and its ``ips`` runtime config replaces every other address source:
    so both addresses go together, with their subnet's prefix length, through ``ips`` when the
    list offers that capability, else as one ``IP=a/len,b/len`` CNI arg.
    """
    subnets = tuple(getattr(net, "subnets", ()) or ())
    addresses = [_with_prefix(a, subnets) for a in (ip, ip6) if a]
    if not addresses:
        return
    if any(p.capabilities.get("ips") for p in conflist.plugins):
        caps["ips"] = addresses
    else:
        args.append(("IP", ",".join(addresses)))


def _add_dhcp_hint(exc: PluginError, conflist: NetworkConfigList) -> None:
    """On a dhcp-IPAM network, append the networks layer's hint when the daemon is missing."""
    ipam = _ipam(conflist)
    if ipam.get("type") != "dhcp":
        return
    from ctrnet.networks.ipam import DHCP_SOCKET, dhcp_hint

    hint = dhcp_hint(str(ipam.get("daemonSocketPath") or DHCP_SOCKET))
    if hint and hint not in exc.message:
        exc.message = f"{exc.message}; {hint}"
