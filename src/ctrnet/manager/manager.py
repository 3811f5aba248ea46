"""The network manager: setup, cleanup, lookup and the OCI fragment of sandboxes.

``setup`` checks everything first (IDs, names, the platform rules, the mode's own checks), then
writes the record (state ``creating``) before any resource exists, lets the mode create its
resources, and marks the record ``ready``. A failure at any step is rolled back in reverse and the
original error raised. ``cleanup`` works from the record alone and is idempotent.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from ctrnet._errors import (
    AmbiguousReference,
    ConflictError,
    CtrnetError,
    InvalidConfig,
    MultipleErrors,
    NetworkNotFound,
    PluginError,
    PluginExecError,
    PluginNotFound,
    SandboxExists,
    SandboxNotFound,
    ValidationError,
    raise_collected,
)
from ctrnet.manager import hostsync
from ctrnet.manager.modes_impl import impl_for
from ctrnet.manager.modes_impl.base import Context, ModeImpl, pause_point
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.records import (
    RecordStore,
    SandboxRecord,
    now,
    validate_sandbox_id,
    validate_sandbox_name,
)
from ctrnet.manager.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrnet._settings import Settings
    from ctrnet.cni import CNI, CachedAttachment, NetworkConfigList
    from ctrnet.manager.modes import Mode, NetworkLike
    from ctrnet.networks import NetworkStore
    from ctrnet.platform import NamespaceBackend

__all__ = ["NetworkManager", "PlannedDefault"]


@dataclass(frozen=True)
class PlannedDefault:
    """The default network as it will be created on first use (verify creates nothing)."""

    name: str
    first_plugin_type: str | None
    subnets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    error: str | None = None


class NetworkManager:
    """Sandboxes on top of CNI: ``setup``, ``cleanup``, ``get``, ``list``, ``oci_spec``.

    The namespace backend, CNI runtime and network store default to the ones ``settings`` names;
    pass your own to run against stand-ins (the Windows HCN fake, a test CNI path).
    ``host_resolv_conf`` / ``resolved_resolv_conf`` replace ``/etc/resolv.conf`` and
    ``/run/systemd/resolve/resolv.conf`` as the source of sandboxes' resolv.conf.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        backend: NamespaceBackend | None = None,
        cni: CNI | None = None,
        networks: NetworkStore | None = None,
        host_resolv_conf: str | None = None,
        resolved_resolv_conf: str | None = None,
    ) -> None:
        self.ctx = Context(
            settings,
            backend=backend,
            cni=cni,
            networks=networks,
            host_resolv_conf=host_resolv_conf,
            resolved_resolv_conf=resolved_resolv_conf,
        )

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    # --- checks ----------------------------------------------------------------------------------

    def verify(self, opts: NetworkOptions | None = None) -> Mode:
        """Run the platform's rules on ``opts``, changing nothing (``ctrnet verify``).

        A default network that does not exist yet is checked as it would be created; use
        ``Settings(platform="windows")`` to check a Windows deployment's flags from Linux.
        """
        from ctrnet.manager.rules import verify

        return verify(opts or NetworkOptions(), self.ctx.platform, self._planned_lookup)

    def _planned_lookup(self, ref: str) -> NetworkLike:
        store = self.ctx.networks
        try:
            return store.get(ref)
        except NetworkNotFound:
            platform = self.ctx.platform
            if ref != platform.default_network or store.default() is not None:
                raise
        return PlannedDefault(
            name=ref,
            first_plugin_type=platform.default_driver,
            subnets=(ipaddress.ip_network(self.settings.default_subnet),),
        )

    def _verify_for_setup(self, opts: NetworkOptions) -> Mode:
        from ctrnet.manager.rules import verify

        return verify(opts, self.ctx.platform, self._lookup)

    def _lookup(self, ref: str) -> NetworkLike:
        """A network by reference; the default network is created on first use."""
        store = self.ctx.networks
        try:
            return store.get(ref)
        except NetworkNotFound:
            if ref != self.ctx.platform.default_network:
                raise
        return store.ensure_default()

    # --- setup -----------------------------------------------------------------------------------

    def setup(
        self,
        sandbox_id: str,
        opts: NetworkOptions | None = None,
        name: str | None = None,
        *,
        workload_pid: int | None = None,
        workload_kind: str = "",
    ) -> Sandbox:
        """Create sandbox ``sandbox_id`` with the networking ``opts`` asks for.

        Raises ``SandboxExists`` if it is already set up; a leftover of a crashed setup or of a
        lost teardown (record or CNI cache entries) is cleaned first. ``workload_pid``: the
        process the sandbox lives for, recorded from the start so that ``ctrnet gc`` reclaims
        the sandbox once it is dead (see :meth:`attach_workload`).
        """
        validate_sandbox_id(sandbox_id)
        if name:
            validate_sandbox_name(name)
        workload = _workload(workload_pid, workload_kind) if workload_pid is not None else {}
        opts = opts or NetworkOptions()
        mode = self._verify_for_setup(opts)
        impl = impl_for(mode.kind, self.ctx)
        impl.verify(opts, mode)
        store = self.ctx.store
        with store.gc_lock(shared=True), store.lock(sandbox_id) as held:
            self._reclaim(sandbox_id)
            record = SandboxRecord(
                id=sandbox_id,
                name=name or "",
                mode=mode.kind,
                platform=self.ctx.platform.name,
                created=now(),
                workload=workload,
            )
            try:
                with store.lock_all():
                    self._check_name(record)
                    if mode.kind == "cni":
                        record.ports = [p.to_cni() for p in self._resolve_ports(opts, sandbox_id)]
                    impl.plan(record, opts, mode)
                    record.labels = impl.labels(record, opts, mode)
                    synced = store.save_syncing(record)
            except BaseException:
                if self._nothing_left(sandbox_id):
                    held.forget()
                raise
            pause_point("record")
            try:
                impl.setup(record, opts, mode, synced.wait)
                synced.wait()
                pause_point("files")
                with store.lock_all():
                    record.state = "ready"
                    store.save(record, durable=False)  # see RecordStore.save
                    hostsync.sync(
                        store,
                        record.network_names(),
                        default_network=self.ctx.platform.default_network,
                    )
            except BaseException as exc:
                with contextlib.suppress(Exception):  # done before the rollback removes the record
                    synced.wait()
                if self._rollback(impl, record, exc):
                    held.forget()
                raise
        return Sandbox.from_record(record)

    def _rollback(self, impl: ModeImpl, record: SandboxRecord, exc: BaseException) -> bool:
        """Undo a failed setup: DEL the networks ADD was tried on, namespace, files, record.

        True when everything went (no error while undoing).
        """
        record.networks = [n for n in record.networks if n.added]
        errors = impl.cleanup(record)
        if errors and all(_left_nothing(e, exc) for e in _flat(errors)):
            # every DEL that failed belongs to a plugin that never ran (not installed) or that
            # refused this configuration on ADD with the very same error (e.g. an unknown
            # ingress policy, a missing dhcp daemon): they made nothing, so only the namespace
            # (kept for a retry of such DELs) has to go
            errors = self.ctx.remove_owned_netns(record)
        with self.ctx.store.lock_all():
            try:
                if errors:  # keep track of what is left, for a teardown or gc to retry
                    _keep_removing(self.ctx.store, record, errors)
                else:
                    self.ctx.store.remove(record.id)
            except OSError as os_err:
                errors.append(os_err)
        for error in errors:
            exc.add_note(f"while rolling back sandbox {record.id!r}: {error}")
        return not errors

    def _nothing_left(self, sandbox_id: str) -> bool:
        """Whether no record, CNI cache entry or namespace of ``sandbox_id`` exists (slow path)."""
        if self.ctx.store.exists(sandbox_id):
            return False
        if any(c.container_id == sandbox_id for c in self.ctx.cni.cached_attachments()):
            return False
        planned = self.ctx.planned_netns_path(sandbox_id)
        return not (planned and os.path.lexists(planned))

    def _check_name(self, record: SandboxRecord) -> None:
        if not record.name:
            return
        for other in self.ctx.store.all():
            if other.id != record.id and other.name == record.name:
                raise ConflictError(
                    f"sandbox name {record.name!r} is already used by sandbox {other.id!r}; "
                    "choose another name or tear that sandbox down"
                )

    def _resolve_ports(self, opts: NetworkOptions, sandbox_id: str) -> list[Any]:
        from ctrnet.manager.ports import ephemeral_port_range, ports_in_use, resolve_ports

        if not opts.ports:
            return []
        automatic = any(p.automatic or p.host_start != p.host_end for p in opts.ports)
        forwarded: set[tuple[str, int]] = set()
        in_use: set[tuple[str, str, int]] = set()
        if automatic:
            in_use = ports_in_use()
            for other in self.ctx.store.all():
                if other.id != sandbox_id:
                    forwarded.update(_port_keys(other.ports))
            for cached in self.ctx.cni.cached_attachments():
                forwarded.update(_port_keys(cached.capability_args.get("portMappings") or []))
        return resolve_ports(
            opts.ports, in_use=in_use, forwarded=forwarded, port_range=ephemeral_port_range()
        )

    def _reclaim(self, sandbox_id: str) -> None:
        """Clean what an earlier, unfinished life of ``sandbox_id`` left (caller holds its lock)."""
        store = self.ctx.store
        try:
            old = store.load(sandbox_id)
        except InvalidConfig:
            old = None
            store.remove(sandbox_id)
        if old is not None and old.state == "ready":
            raise SandboxExists(sandbox_id)
        if old is None and not (
            _cache_names_mention(self.ctx.cni_cache_dir, sandbox_id)
            and any(c.container_id == sandbox_id for c in self.ctx.cni.cached_attachments())
        ):
            return  # the usual case: a new ID (found without parsing every cache entry)
        from ctrnet.manager.gc import scrubbing

        with scrubbing(self.ctx, sandbox_id, old):  # what a crash mid-chain leaves DEL cannot
            if old is not None:
                old.state = "removing"
                store.save(old)
                errors = impl_for(old.mode, self.ctx).cleanup(old)
                with store.lock_all():
                    if errors:  # the new setup must not start on top of what is left
                        _keep_removing(store, old, errors)
                        _raise_kept(sandbox_id, errors)
                    store.remove(sandbox_id)
            self._delete_cached(sandbox_id)

    def _delete_cached(self, sandbox_id: str) -> list[BaseException]:
        """DEL attachments the CNI cache still holds for ``sandbox_id`` (no record covers them)."""
        if not _cache_names_mention(self.ctx.cni_cache_dir, sandbox_id):
            return []  # the usual case: no need to load the CNI runtime and parse every entry
        from ctrnet.cni import RuntimeConf

        errors: list[BaseException] = []
        cached = [c for c in self.ctx.cni.cached_attachments() if c.container_id == sandbox_id]
        for entry in cached:
            conf = self._cached_conflist(entry)
            if conf is None:
                continue
            rt = RuntimeConf(
                container_id=sandbox_id,
                netns=entry.netns,
                ifname=entry.ifname,
                args=tuple(entry.args),
                capability_args=dict(entry.capability_args),
            )
            try:
                self.ctx.cni.delete(conf, rt)
            except CtrnetError as exc:
                errors.append(exc)
        return errors

    def _cached_conflist(self, entry: CachedAttachment) -> NetworkConfigList | None:
        """The conflist a cache entry was added with, else the store's network of that name."""
        from ctrnet.cni import conflist_from_bytes

        if entry.config:
            with contextlib.suppress(CtrnetError):
                return conflist_from_bytes(entry.config)
        try:
            return self.ctx.networks.get(entry.network).conflist
        except CtrnetError:
            return None

    # --- cleanup ---------------------------------------------------------------------------------

    def cleanup(
        self,
        sandbox_id: str,
        *,
        gc_lock_held: bool = False,
        force: bool = False,
        orphan_dependents: bool = False,
    ) -> list[str]:
        """Tear sandbox ``sandbox_id`` down: every network (reverse order), namespace, files.

        Idempotent (an unknown ID is not an error); does all it can and then raises the one error
        or a ``MultipleErrors``. Refused with ``ConflictError`` (nothing changed) while
        container-mode sandboxes share its namespace, unless ``orphan_dependents`` (they lose
        their network, as when docker stops such a container) or ``force``. ``force``: DEL
        errors do not keep the record; the namespace, cache entries, files and record go
        regardless (``ctrnet teardown --force``). Returns warnings: what a forced teardown could
        not undo, and the dependents left without a network. ``gc_lock_held``: the caller
        (``ctrnet gc``) holds the GC lock exclusively, so it is not taken again, and reclaims a
        stale target together with its dependents, so they do not block it.
        """
        validate_sandbox_id(sandbox_id)
        if not gc_lock_held:
            with self.ctx.store.gc_lock(shared=True):
                return self._cleanup(
                    sandbox_id,
                    check_dependents=not (force or orphan_dependents),
                    force=force,
                )
        return self._cleanup(sandbox_id, check_dependents=False, force=force)

    def _cleanup(self, sandbox_id: str, *, check_dependents: bool, force: bool) -> list[str]:
        store = self.ctx.store
        errors: list[BaseException] = []
        warnings: list[str] = []
        if force:
            from ctrnet.manager import forced
        with store.lock(sandbox_id) as held:
            try:
                record = store.load(sandbox_id)
            except InvalidConfig as exc:
                if not force:
                    errors.append(exc)
                warnings += [f"unreadable record removed: {exc}"] if force else []
                record = None
            if record is not None:
                with store.lock_all():  # no container-mode setup can pick this target meanwhile
                    others = store.all()
                    if check_dependents:
                        self._refuse_if_shared(record, others)
                    warnings += self._orphaned(record, others)
                    if record.state != "removing":
                        record.state = "removing"
                        # after a reboot a sandbox whose namespace ctrnet made is reclaimed in
                        # any state, so only the others need this state on disk for gc
                        store.save(record, durable=not record.netns_owned)
                pause_point("removing")
                if force:
                    errors += forced.undo_networks(self.ctx, record)
                else:
                    errors += impl_for(record.mode, self.ctx).cleanup(record)
                pause_point("cleaned")
            else:
                errors += self._delete_cached(sandbox_id)
            if force:  # what DEL could not undo is reported; what ctrnet owns goes anyway
                warnings += [f"could not undo: {e}" for e in _flat(errors)]
                errors = forced.remove_owned(self.ctx, sandbox_id, record)
                warnings += [
                    f"left on the host: {r}" for r in forced.known_residue(sandbox_id, record)
                ]
            kept = record is not None and bool(errors)
            with store.lock_all():
                try:
                    if record is not None and errors:  # a retry (teardown, gc) starts from here
                        _keep_removing(store, record, errors)
                    else:
                        store.remove(sandbox_id)
                except OSError as exc:
                    errors.append(exc)
                if record is not None:
                    hostsync.sync(
                        store,
                        record.network_names(),
                        default_network=self.ctx.platform.default_network,
                    )
            if not errors:
                held.forget()  # nothing of the sandbox is left for GC to attribute to this root
        if kept:
            _raise_kept(sandbox_id, errors)
        raise_collected(errors, f"cleanup of sandbox {sandbox_id!r}")
        return warnings

    def _orphaned(self, record: SandboxRecord, records: Sequence[SandboxRecord]) -> list[str]:
        """Warnings for the ready container-mode sandboxes that share ``record``'s namespace."""
        dependents = [
            other.id
            for other in records
            if other.mode == "container" and other.target == record.id and other.id != record.id
        ]
        return [
            f"sandbox {d!r} shared the network namespace of {record.id!r} and has no network "
            f"now; tear it down (`ctrnet teardown {d}`)"
            for d in dependents
        ]

    def _refuse_if_shared(self, record: SandboxRecord, records: Sequence[SandboxRecord]) -> None:
        """Raise ``ConflictError`` while container-mode sandboxes use ``record``'s namespace.

        A dependent counts while it is ready or its setup is under way; a crashed one (not ready,
        nobody holding its lock) does not: GC reclaims it with its target. Caller holds
        ``lock_all``, under which container-mode setups pick their target.
        """
        store = self.ctx.store
        dependents = [
            other.id
            for other in records
            if other.mode == "container"
            and other.target == record.id
            and other.id != record.id
            and (other.state == "ready" or store.is_locked(other.id))
        ]
        if dependents:
            raise ConflictError(
                f"sandbox {record.id!r} is in use: {', '.join(dependents)} "
                f"{'shares' if len(dependents) == 1 else 'share'} its network namespace "
                f"(--network container:{record.id}); tear "
                f"{'it' if len(dependents) == 1 else 'them'} down first"
            )

    def attach_workload(self, sandbox_id: str, pid: int, kind: str = "") -> None:
        """Record process ``pid`` as what sandbox ``sandbox_id`` lives for: once it is dead (and
        no process is left in the namespace), ``ctrnet gc`` reclaims the sandbox."""
        validate_sandbox_id(sandbox_id)
        workload = _workload(pid, kind)
        store = self.ctx.store
        with store.gc_lock(shared=True), store.lock(sandbox_id):
            record = store.load(sandbox_id)
            if record is None:
                raise SandboxNotFound(sandbox_id)
            record.workload = workload
            with store.lock_all():
                store.save(record)

    # --- queries ---------------------------------------------------------------------------------

    def list(self) -> list[Sandbox]:
        """Every sandbox with a readable record, sorted by ID."""
        return [Sandbox.from_record(r) for r in self.ctx.store.all()]

    def get(self, ref: str) -> Sandbox:
        """A sandbox by ID, name or unique ID prefix."""
        return Sandbox.from_record(self._record(ref))

    def _record(self, ref: str) -> SandboxRecord:
        store = self.ctx.store
        with contextlib.suppress(CtrnetError):
            record = store.load(validate_sandbox_id(ref))
            if record is not None:
                return record
        records = store.all()
        by_name = [r for r in records if r.name == ref]
        if len(by_name) == 1:
            return by_name[0]
        by_prefix = [r for r in records if r.id.startswith(ref)] if ref else []
        if len(by_prefix) == 1:
            return by_prefix[0]
        if len(by_prefix) > 1:
            raise AmbiguousReference("sandbox", ref, [r.id for r in by_prefix])
        raise SandboxNotFound(ref)

    def oci_spec(self, ref: str) -> dict[str, Any]:
        """The fragment to merge into an OCI ``config.json`` for the sandbox."""
        record = self._record(ref)
        return impl_for(record.mode, self.ctx).oci_spec(record)


def _workload(pid: int, kind: str) -> dict[str, Any]:
    """The record's ``workload`` object for live process ``pid``."""
    from ctrnet.manager.liveness import workload_of

    try:
        return workload_of(pid, kind).to_dict()
    except (ProcessLookupError, OSError, ValueError, IndexError):
        raise ValidationError(
            f"invalid workload pid {pid!r}: no such process; pass the PID of a running process",
            option="workload_pid",
            value=str(pid),
        ) from None


def _left_nothing(error: BaseException, add_error: BaseException) -> bool:
    """Whether a DEL ``error`` during rollback shows that its plugin created nothing."""
    if isinstance(error, PluginNotFound):
        return True
    return (
        isinstance(error, PluginError)
        and isinstance(add_error, PluginError)
        and not isinstance(error, PluginExecError)
        and (error.plugin, error.network, error.code, error.msg)
        == (add_error.plugin, add_error.network, add_error.code, add_error.msg)
    )


def _flat(errors: list[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for error in errors:
        out.extend(error.errors if isinstance(error, MultipleErrors) else [error])
    return out


def _keep_removing(store: RecordStore, record: SandboxRecord, errors: list[BaseException]) -> None:
    """Save ``record`` as ``removing`` with what went wrong (caller holds ``lock_all``)."""
    record.state = "removing"
    record.errors = [str(e) for e in errors]
    store.save(record)


def _raise_kept(sandbox_id: str, errors: list[BaseException]) -> NoReturn:
    """Raise the teardown's error(s), saying that the record stays and how to retry."""
    hint = (
        f"the record of sandbox {sandbox_id!r} is kept in state removing: fix the cause, then "
        f"run `ctrnet teardown {sandbox_id}` again or `ctrnet gc`"
    )
    if len(errors) == 1 and isinstance(errors[0], CtrnetError):
        errors[0].message = f"{errors[0].message}; {hint}"
        raise errors[0]
    raise MultipleErrors(errors, f"cleanup of sandbox {sandbox_id!r} ({hint})")


def _port_keys(ports: Any) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for p in ports if isinstance(ports, list) else []:
        if isinstance(p, dict):
            lower = {str(k).lower(): v for k, v in p.items()}
            with contextlib.suppress(KeyError, TypeError, ValueError):
                keys.add((str(lower.get("protocol") or "tcp"), int(lower["hostport"])))
    return keys


def _cache_names_mention(cache_dir: str, sandbox_id: str) -> bool:
    """Whether a file in the CNI result cache may belong to ``sandbox_id``: libcni (and ctrnet)
    name them ``<network>-<container ID>-<ifname>``. True when the directory cannot be read."""
    try:
        names = os.listdir(os.path.join(cache_dir, "results"))
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return any(sandbox_id in name for name in names)
