"""``ctrnet gc``: reclaim what crashed or vanished sandboxes left, and only what is ctrnet's.

Runs under the exclusive GC lock (setup and cleanup hold it shared), so no ADD or DEL of ours runs
meanwhile, as the CNI spec asks. What counts as ctrnet's:

- a sandbox record in the data root: stale when its setup or teardown never finished (state
  ``creating``/``removing`` and nobody holds its lock), or its namespace (or target) is gone;
- a CNI cache entry of a network in the conf dir whose container ID has no record but whose
  namespace is the one ctrnet names for that ID (``<netns_dir>/ctrnet-<id>``);
- a namespace ``<netns_dir>/ctrnet-<id>`` that no record owns;

  both only for IDs this data root has handled (``locks/sandbox-<id>.lock`` exists): other data
  roots share ``/run/netns`` and the cache, and their sandboxes are never judged here;
- host-local leases, nat rules and chains (by the plugins' ``id:`` comments and chain hashes) and
  firewall ``CNI-FORWARD`` rules (by address) of the container IDs found stale above;
- bridges named ``br-<12 hex>`` or the default bridge that no conflist in the conf dir uses, that
  have no ports and that a stale record or cache entry of ours names; the firewall plugin's
  isolation rules of such bridges, and of any such bridge that no longer exists.

Stale attachments are DELeted with their recorded (or cached) config, args and capability args, so
that the plugins release what they made; CNI GC is sent where a network speaks SPEC 1.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from ctrnet._errors import CtrnetError
from ctrnet.manager import gcpolicy, liveness, residue
from ctrnet.manager.gcpolicy import NETNS_PREFIX
from ctrnet.manager.records import SandboxRecord

if TYPE_CHECKING:
    from ctrnet._settings import Settings
    from ctrnet.cni import CachedAttachment, NetworkConfigList
    from ctrnet.manager.manager import NetworkManager
    from ctrnet.manager.modes_impl.base import Context
    from ctrnet.networks import Network

__all__ = ["GCReport", "HostFacts", "Reclaimed", "collect_garbage", "scrubbing"]

_BRIDGE = re.compile(r"^br-[0-9a-f]{12}\Z")


@dataclass(frozen=True)
class Reclaimed:
    """One thing GC reclaimed (or would): its kind, name and why."""

    kind: str  # sandbox | cache | netns | lease | rule | chain | bridge
    name: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "detail": self.detail}


@dataclass
class GCReport:
    """What a GC run did (``dry_run``: would do), the errors it met and remarks."""

    dry_run: bool
    reclaimed: list[Reclaimed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "reclaimed": [r.to_dict() for r in self.reclaimed],
            "errors": list(self.errors),
            "notes": list(self.notes),
        }


def collect_garbage(
    settings: Settings, *, dry_run: bool = False, manager: NetworkManager | None = None
) -> GCReport:
    """Reclaim (or with ``dry_run`` only list) what no live sandbox owns; see the module doc."""
    from ctrnet.manager.manager import NetworkManager

    mgr = manager or NetworkManager(settings)
    with mgr.ctx.store.gc_lock(shared=False):
        return _Collector(mgr, dry_run).run()


class HostFacts:
    """The real host behind :class:`ctrnet.manager.gcpolicy.HostView`: locks, namespaces, /proc."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._in_use: set[tuple[int, int]] | None = None

    def is_locked(self, sandbox_id: str) -> bool:
        return self.ctx.store.is_locked(sandbox_id)

    def known(self, sandbox_id: str) -> bool:
        return self.ctx.store.known(sandbox_id)

    def netns_exists(self, path: str) -> bool:
        return self.ctx.backend.exists(path)

    def workload_alive(self, workload: liveness.Workload) -> bool:
        return liveness.is_alive(workload)

    def netns_in_use(self, path: str) -> bool:
        if self.ctx.settings.platform != "linux":
            return False  # an HCN namespace holds no processes; its workload record decides
        ident = liveness.namespace_id(path)
        if ident is None:
            return False
        if self._in_use is None:  # one scan of /proc per GC run
            self._in_use = liveness.namespaces_in_use()
        return ident in self._in_use


class _Collector:
    def __init__(self, mgr: NetworkManager, dry_run: bool) -> None:
        self.mgr = mgr
        self.ctx = mgr.ctx
        self.report = GCReport(dry_run=dry_run)
        self.dry_run = dry_run
        self.view = HostFacts(mgr.ctx)

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> GCReport:
        networks = self._networks()
        conf = {n.name: n.conflist for n in networks if n.conflist is not None and n.error is None}
        live, stale = self._records()
        cached = self.ctx.cni.cached_attachments()
        record_ids = {r.id for r in live} | {r.id for r, _ in stale}
        orphan_cache = [
            c for c in cached if c.network in conf and self._ours_by_name(c, record_ids)
        ]
        live_netns = {r.netns for r in live if r.netns}
        orphan_ns = self._orphan_namespaces(live_netns | {r.netns for r, _ in stale})
        stale_ids = {r.id for r, _ in stale} | {c.container_id for c in orphan_cache}
        stale_ids |= {name[len(NETNS_PREFIX) :] for name in orphan_ns}
        networks_seen = set(conf) | {a.network for r, _ in stale for a in r.networks}
        networks_seen |= {c.network for c in orphan_cache}
        lease_dirs = self._lease_dirs(conf, [r for r, _ in stale], orphan_cache)
        stale_ips = self._stale_ips(stale, orphan_cache, lease_dirs, stale_ids)

        failed = {
            record.id
            for record, why in stale
            if not self._act(
                Reclaimed("sandbox", record.id, why),
                partial(self.mgr.cleanup, record.id, gc_lock_held=True),
            )
        }
        if failed:  # their records stay (state removing) and still own what is left: keep it
            kept = [(r, why) for r, why in stale if r.id in failed]
            stale_ips -= self._stale_ips(kept, [], lease_dirs, failed)
            stale_ids -= failed
        for entry in orphan_cache:
            self._act(
                Reclaimed(
                    "cache",
                    os.path.basename(entry.path),
                    f"DEL {entry.network} {entry.ifname} of {entry.container_id} (no sandbox)",
                ),
                partial(self._delete_cached, entry, conf[entry.network]),
            )
        for name in orphan_ns:
            path = os.path.join(self._netns_dir(), name)
            self._act(
                Reclaimed("netns", path, "no sandbox owns it"),
                partial(self.ctx.backend.remove, path),
            )
        self._leases(lease_dirs, stale_ids)
        owners = {(net, cid) for net in networks_seen for cid in stale_ids}
        self._rules(owners, stale_ips, lease_dirs, stale_ids)
        self._bridges(networks, stale, orphan_cache)
        self._cni_gc(conf)
        return self.report

    def _act(self, item: Reclaimed, apply: Callable[[], object]) -> bool:
        """Apply (unless dry run) and report ``item``; False if applying it failed."""
        if self.dry_run:
            self.report.reclaimed.append(item)
            return True
        try:
            apply()
        except (CtrnetError, OSError) as exc:
            self.report.errors.append(f"{item.kind} {item.name}: {exc}")
            return False
        self.report.reclaimed.append(item)
        return True

    # --- what exists -----------------------------------------------------------------------------

    def _networks(self) -> list[Network]:
        try:
            return self.ctx.networks.list()
        except CtrnetError as exc:
            self.report.errors.append(f"network configs in {self.ctx.settings.conf_dir}: {exc}")
            return []

    def _records(self) -> tuple[list[SandboxRecord], list[tuple[SandboxRecord, str]]]:
        store = self.ctx.store
        records: list[SandboxRecord] = []
        for sandbox_id in store.ids():
            try:
                record = store.load(sandbox_id)
            except CtrnetError as exc:
                self.report.errors.append(f"sandbox {sandbox_id}: {exc}")
                continue
            if record is None:  # a crash between mkdir and the first write: nothing inside
                if not store.is_locked(sandbox_id):
                    self._act(
                        Reclaimed("sandbox", sandbox_id, "empty record directory"),
                        partial(store.remove, sandbox_id),
                    )
                continue
            records.append(record)
        live, stale, notes = gcpolicy.partition(records, self.view)
        self.report.notes.extend(notes)
        return live, stale

    def _ours_by_name(self, entry: CachedAttachment, record_ids: set[str]) -> bool:
        """A cache entry without a record whose namespace is the one ctrnet names for its ID."""
        planned = ""
        with contextlib.suppress(CtrnetError):
            planned = self.ctx.planned_netns_path(entry.container_id)
        return gcpolicy.ours_by_name(
            entry.container_id, entry.netns, record_ids, self.view, planned
        )

    def _netns_dir(self) -> str:
        return os.path.abspath(self.ctx.settings.netns_dir)

    def _orphan_namespaces(self, owned: set[str]) -> list[str]:
        directory = self._netns_dir()
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return []
        return gcpolicy.orphan_namespaces(names, directory, owned, self.view)

    def _lease_dirs(
        self,
        conf: dict[str, NetworkConfigList],
        stale: list[SandboxRecord],
        orphans: list[CachedAttachment],
    ) -> dict[str, str]:
        """network -> host-local lease directory, for the conf dir's and the stale ones' lists."""
        dirs: dict[str, str] = {}
        for name, conflist in conf.items():
            directory = residue.lease_dir(name, [p.raw for p in conflist.plugins])
            if directory:
                dirs[name] = directory
        for record in stale:
            for att in record.networks:
                if att.network in dirs:
                    continue
                with contextlib.suppress(ValueError, AttributeError):
                    plugins = json.loads(att.conflist).get("plugins") or []
                    directory = residue.lease_dir(att.network, plugins)
                    if directory:
                        dirs[att.network] = directory
        for entry in orphans:
            if entry.network not in dirs and entry.config:
                with contextlib.suppress(ValueError, AttributeError):
                    plugins = json.loads(entry.config).get("plugins") or []
                    directory = residue.lease_dir(entry.network, plugins)
                    if directory:
                        dirs[entry.network] = directory
        return dirs

    def _stale_ips(
        self,
        stale: list[tuple[SandboxRecord, str]],
        orphans: list[CachedAttachment],
        lease_dirs: dict[str, str],
        stale_ids: set[str],
    ) -> set[str]:
        """Addresses the stale IDs held: recorded, cached, or leased (read before any DEL)."""
        ips = {ip.split("/")[0] for r, _ in stale for a in r.networks for ip in a.ips}
        for entry in self.ctx.cni.cached_attachments():
            if entry.container_id in stale_ids:
                ips.update(residue.result_ips(entry.result))
        for entry in orphans:
            ips.update(residue.result_ips(entry.result))
        for network, directory in lease_dirs.items():
            ips.update(
                x.ip for x in residue.leases_in(network, directory) if x.container_id in stale_ids
            )
        return ips

    # --- reclaiming ------------------------------------------------------------------------------

    def _delete_cached(self, entry: CachedAttachment, fallback: NetworkConfigList | None) -> None:
        from ctrnet.cni import RuntimeConf, conflist_from_bytes
        from ctrnet.cni.args import without_ignore_unknown

        conflist = fallback
        if entry.config:
            with contextlib.suppress(CtrnetError):
                conflist = conflist_from_bytes(entry.config)
        if conflist is None:
            raise CtrnetError(f"no usable config for network {entry.network!r}")
        self.ctx.cni.delete(
            conflist,
            RuntimeConf(
                container_id=entry.container_id,
                netns=entry.netns,
                ifname=entry.ifname,
                args=without_ignore_unknown(entry.args),
                capability_args=dict(entry.capability_args),
            ),
        )

    def _leases(self, lease_dirs: dict[str, str], stale_ids: set[str]) -> None:
        """host-local leases still naming a stale ID after its DEL (or a lost one)."""
        for network, directory in sorted(lease_dirs.items()):
            for lease in residue.leases_in(network, directory):
                if lease.container_id in stale_ids:
                    self._act(
                        Reclaimed(
                            "lease", f"{network}/{lease.ip}", f"held by {lease.container_id}"
                        ),
                        partial(residue.release_lease, lease),
                    )

    def _live_ips(self, lease_dirs: dict[str, str], stale_ids: set[str]) -> set[str]:
        """Addresses something live still holds: any lease, cache entry or live record."""
        ips: set[str] = set()
        for network, directory in lease_dirs.items():
            ips.update(
                x.ip
                for x in residue.leases_in(network, directory)
                if x.container_id not in stale_ids
            )
        for entry in self.ctx.cni.cached_attachments():
            if entry.container_id not in stale_ids:
                ips.update(residue.result_ips(entry.result))
        for record in self.ctx.store.all():
            if record.id not in stale_ids:
                ips.update(ip.split("/")[0] for a in record.networks for ip in a.ips)
        return ips

    def _rules(
        self,
        owners: set[tuple[str, str]],
        stale_ips: set[str],
        lease_dirs: dict[str, str],
        stale_ids: set[str],
    ) -> None:
        if not owners and not stale_ips:
            return
        try:
            table = residue.RuleTable()
        except CtrnetError as exc:
            self.report.errors.append(f"iptables: {exc}")
            return
        rules, chains = table.owned_by(owners)
        free_ips = stale_ips - self._live_ips(lease_dirs, stale_ids)
        forward = table.forward_rules(free_ips)
        for rule in forward + rules:
            self._act(
                Reclaimed("rule", rule.describe(), "names a stale sandbox"),
                partial(table.delete, rule),
            )
        for chain in chains:
            self._act(
                Reclaimed("chain", f"{chain[0]} -t {chain[1]} {chain[2]}", "per-container chain"),
                partial(table.delete_chain, chain),
            )

    def _bridges(
        self,
        networks: list[Network],
        stale: list[tuple[SandboxRecord, str]],
        orphans: list[CachedAttachment],
    ) -> None:
        from ctrnet.networks import _host

        used = {n.bridge for n in networks if n.bridge}
        broken = [n for n in networks if n.error is not None]
        default = self.ctx.settings.default_bridge
        mentioned = {default}
        for record, _ in stale:
            mentioned.update(_bridge_of(a.conflist) for a in record.networks)
        for entry in orphans:
            if entry.config:
                mentioned.add(_bridge_of(entry.config.decode(errors="replace")))
        isolated: set[str] = set()
        for chain in _host.ISOLATION_CHAINS:
            proc = subprocess.run(
                ["iptables", "-w", "-t", "filter", "-S", chain],
                capture_output=True,
                text=True,
                check=False,
            )
            isolated.update(re.findall(r"-[io] (\S+)", proc.stdout))

        def unused(name: str) -> bool:
            if name in used or not (_BRIDGE.match(name) or name == default):
                return False
            return not any(_mentions(n.file, name) for n in broken)  # unreadable ones may use it

        on_host = set(_bridges_on_host())
        removed: set[str] = set()
        for bridge in sorted(n for n in on_host if unused(n)):
            if bridge not in mentioned:
                self.report.notes.append(
                    f"bridge {bridge} has no network config in {self.ctx.settings.conf_dir} but "
                    "no sandbox of this data root used it; left alone (ip link del it if it is "
                    "yours)"
                )
                continue
            if _has_ports(bridge):
                continue  # something is still plugged into it
            removed.add(bridge)
            self._act(
                Reclaimed("bridge", bridge, "no network config uses it"),
                partial(_host.delete_bridge, bridge),
            )
        for bridge in sorted(
            n for n in isolated if unused(n) and (n not in on_host or n in removed)
        ):
            for tool in ("iptables", "ip6tables"):
                for chain, spec in _host.isolation_rules(bridge, tool):
                    self._act(
                        Reclaimed(
                            "rule",
                            f"{tool} -t filter -A {chain} {' '.join(spec)}",
                            "isolation rule of a removed bridge",
                        ),
                        partial(_delete_spec, tool, chain, spec),
                    )

    def _cni_gc(self, conf: dict[str, NetworkConfigList]) -> None:
        from ctrnet.cni import GCAttachment
        from ctrnet.cni.spec.version import supports_gc_and_status

        old = sorted(n for n, c in conf.items() if not supports_gc_and_status(c.cni_version))
        if old:
            versions = sorted({conf[n].cni_version for n in old})
            self.report.notes.append(
                f"CNI GC not sent to {', '.join(old)}: cniVersion {', '.join(versions)} "
                f"(GC needs SPEC 1.1.0{self._plugin_versions(conf[old[0]])}); stale attachments "
                "were DELeted one by one instead"
            )
        for name, conflist in sorted(conf.items()):
            if name in old or conflist.disable_gc:
                continue
            valid = [
                GCAttachment(container_id=c.container_id, ifname=c.ifname)
                for c in self.ctx.cni.cached_attachments(name)
            ]
            self._act(
                Reclaimed("cni-gc", name, f"{len(valid)} valid attachment(s)"),
                partial(self.ctx.cni.gc, conflist, valid),
            )

    def _plugin_versions(self, conflist: NetworkConfigList) -> str:
        """``; plugin X speaks up to V`` when the first plugin cannot do GC either."""
        if not conflist.plugins:
            return ""
        plugin = conflist.plugins[0].type
        try:
            versions = self.ctx.cni.version_info(plugin).get("supportedVersions") or []
        except CtrnetError:
            return ""
        if "1.1.0" in versions or not versions:
            return ""
        return f"; plugin {plugin} speaks SPEC up to {versions[-1]}"


@contextlib.contextmanager
def scrubbing(ctx: Context, sandbox_id: str, record: SandboxRecord | None) -> Iterator[None]:
    """Around the DEL of a half-made ``sandbox_id``: note its addresses, then remove what the
    plugins could not (leases, nat rules and chains, firewall rules) once the block is done.

    A crash between two plugins of a chain leaves no cached result, so the firewall plugin's DEL
    gets no ``prevResult`` and keeps its per-address rules; the lease tells which address it was.
    """
    dirs: dict[str, str] = {}
    texts = [a.conflist for a in record.networks] if record else []
    cached = [c for c in ctx.cni.cached_attachments() if c.container_id == sandbox_id]
    texts += [c.config.decode(errors="replace") for c in cached if c.config]
    for text in texts:
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            doc = json.loads(text)
            directory = residue.lease_dir(str(doc.get("name", "")), doc.get("plugins") or [])
            if directory and doc.get("name"):
                dirs[str(doc["name"])] = directory
    ips = {ip.split("/")[0] for a in (record.networks if record else []) for ip in a.ips}
    for entry in cached:
        ips.update(residue.result_ips(entry.result))
    for network, directory in dirs.items():
        ips.update(
            x.ip for x in residue.leases_in(network, directory) if x.container_id == sandbox_id
        )
    yield
    networks = set(dirs) | {c.network for c in cached}
    networks |= {a.network for a in (record.networks if record else [])}
    live: set[str] = set()
    for network, directory in dirs.items():
        for lease in residue.leases_in(network, directory):
            if lease.container_id == sandbox_id:
                residue.release_lease(lease)
            else:
                live.add(lease.ip)
    for entry in ctx.cni.cached_attachments():
        if entry.container_id != sandbox_id:
            live.update(residue.result_ips(entry.result))
    table = residue.RuleTable()
    rules, chains = table.owned_by({(n, sandbox_id) for n in networks})
    for rule in table.forward_rules(ips - live) + rules:
        table.delete(rule)
    for chain in chains:
        table.delete_chain(chain)


def _bridge_of(conflist_text: str) -> str:
    with contextlib.suppress(ValueError, AttributeError, IndexError, TypeError):
        plugins = json.loads(conflist_text).get("plugins") or []
        if plugins and plugins[0].get("type") == "bridge":
            return str(plugins[0].get("bridge") or "cni0")
    return ""


def _mentions(path: str, name: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return f'"{name}"' in fh.read()
    except OSError:
        return True  # unreadable: assume the worst


def _bridges_on_host() -> list[str]:
    proc = subprocess.run(
        ["ip", "-j", "link", "show", "type", "bridge"], capture_output=True, text=True, check=False
    )
    with contextlib.suppress(ValueError):
        return [str(x["ifname"]) for x in json.loads(proc.stdout or "[]")]
    return []


def _has_ports(bridge: str) -> bool:
    proc = subprocess.run(
        ["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True, check=False
    )
    with contextlib.suppress(ValueError):
        return bool(json.loads(proc.stdout or "[]"))
    return True


def _delete_spec(tool: str, chain: str, spec: list[str]) -> None:
    residue.RuleTable.delete(residue.Rule(tool, "filter", chain, tuple(spec)))
