"""The CNI facade: ADD, CHECK, DEL, GC, STATUS, VERSION and validate over a conflist.

Follows the SPEC's ordering and version gates, and goes beyond libcni where that prevents leaks:
a failed ADD deletes the whole list before it raises, DEL replays the cached capability args and
CNI_ARGS when the caller passes none, treats a missing netns and a corrupt cache as "nothing to
pass" and runs every plugin's DEL even when one fails.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctrnet._errors import (
    CtrnetError,
    MultipleErrors,
    NotFoundError,
    OperationNotSupported,
    PluginError,
    ValidationError,
    raise_collected,
)
from ctrnet._settings import DEFAULT_CACHE_DIR, DEFAULT_CNI_PATH, Settings
from ctrnet.cni import cache
from ctrnet.cni.args import (
    check_container_id,
    check_ifname,
    cni_args_string,
    with_ignore_unknown,
    without_ignore_unknown,
)
from ctrnet.cni.cache import CachedAttachment
from ctrnet.cni.chain import REFERENCE_PLUGINS, ChainCalls
from ctrnet.cni.config import NetworkConfigList, PluginConfig
from ctrnet.cni.exec import (
    Completed,
    Exec,
    SubprocessExec,
    cni_environ,
    error_from,
    parse_output,
)
from ctrnet.cni.request import request_bytes
from ctrnet.cni.spec import (
    CURRENT_VERSION,
    GCAttachment,
    Result,
    attachments_payload,
    convert,
    parse_result,
    parse_version_reply,
    to_current,
)
from ctrnet.cni.spec.version import prev_result_on_del, supports_check, supports_gc_and_status

__all__ = ["CNI", "RuntimeConf"]


@dataclass(frozen=True, kw_only=True)
class RuntimeConf:
    """One attachment's parameters: who (container, ifname), where (netns) and extras."""

    container_id: str
    netns: str
    ifname: str = "eth0"
    #: CNI_ARGS pairs; ``IgnoreUnknown=1`` is sent first
    args: tuple[tuple[str, str], ...] = ()
    #: e.g. ``{"portMappings": [...], "mac": "..."}``, passed to plugins declaring the capability
    capability_args: Mapping[str, Any] = field(default_factory=dict)


class CNI:
    """Runs conflists against plugins found in ``path``; results cached under ``cache_dir``."""

    def __init__(
        self,
        path: Sequence[str] = DEFAULT_CNI_PATH,
        *,
        cache_dir: str = DEFAULT_CACHE_DIR,
        exec: Exec | None = None,
        timeout: float = 60.0,
        prestart: Collection[str] = REFERENCE_PLUGINS,
    ) -> None:
        """``prestart``: plugin types whose process may be started while the previous plugin of
        the chain runs (see :mod:`ctrnet.cni.chain`); empty to start each one in its turn."""
        if timeout <= 0:
            raise ValidationError(
                f"plugin timeout must be positive, got {timeout}", option="timeout", value=timeout
            )
        self.path = tuple(path)
        self.cache_dir = cache_dir
        self.exec: Exec = exec if exec is not None else SubprocessExec()
        self.timeout = timeout
        self.prestart = frozenset(prestart)
        self._cni_path = os.pathsep.join(self.path)

    @classmethod
    def from_settings(cls, settings: Settings, *, exec: Exec | None = None) -> CNI:
        return cls(
            settings.cni_path,
            cache_dir=settings.cache_dir,
            exec=exec,
            timeout=settings.plugin_timeout,
            prestart=REFERENCE_PLUGINS if settings.prestart else (),
        )

    # --- operations ----------------------------------------------------------------------------

    def add(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, before: Callable[[], None] | None = None
    ) -> Result:
        """ADD every plugin in order, chaining results; cache and return the final result.

        On any failure the whole list is deleted (best effort) before the error is raised.
        ``before`` is called once the first plugin's process has been started (it waits for its
        input) and before any plugin acts: work the ADD needs done (the namespace), overlapping
        the plugin's start-up. If it raises, no plugin has run and the error is raised as is.
        """
        args = self._checked(rt)
        if not rt.netns:
            raise ValidationError("ADD needs a network namespace path", option="netns")
        paths = [self.exec.find(p.type, self.path) for p in conf.plugins]
        calls = self._chain(conf.plugins, paths, "ADD", rt, args)
        if before is not None:
            try:
                calls.start(0)
                before()
            except BaseException:
                calls.close()
                raise
        prev: dict[str, Any] | None = None
        try:
            with calls:
                for i, plugin in enumerate(conf.plugins):
                    stdin = request_bytes(
                        plugin,
                        name=conf.name,
                        cni_version=conf.cni_version,
                        prev_result=prev,
                        capability_args=rt.capability_args,
                    )
                    prev = self._outcome(plugin, "ADD", calls.call(i, stdin), conf)
            final = prev or {}
            result = to_current(parse_result(final, conf.cni_version))
            entry = cache.encode_entry(
                network=conf.name,
                container_id=rt.container_id,
                ifname=rt.ifname,
                config=conf.data,
                netns=rt.netns,
                args=args,
                capability_args=rt.capability_args,
                result=final,
            )
            try:
                cache.write_entry(self._cache_file(conf, rt), entry)
            except OSError as exc:
                raise CtrnetError(
                    f"network {conf.name!r}: cannot write the result cache "
                    f"{self._cache_file(conf, rt)}: {exc.strerror or exc}; make "
                    f"{self.cache_dir} writable"
                ) from exc
        except CtrnetError as exc:
            self._rollback(conf, rt, args, prev, exc)
            raise
        return result

    def check(self, conf: NetworkConfigList, rt: RuntimeConf) -> None:
        """CHECK every plugin in order against the cached ADD result (0.4.0+)."""
        if not supports_check(conf.cni_version):
            raise OperationNotSupported("CHECK", conf.cni_version, "0.4.0")
        if conf.disable_check:
            return
        args = self._checked(rt)
        entry, _ = cache.read_entry(self._cache_file(conf, rt))
        if entry is None or entry.result is None:
            raise NotFoundError(
                f"network {conf.name!r} has no cached ADD result for container "
                f"{rt.container_id!r} interface {rt.ifname!r}; ADD it before CHECK"
            )
        prev = self._prev_result(entry, conf)
        # CHECK must see the ADD's parameters: replay what the caller leaves out, as DEL does
        caps = rt.capability_args or entry.capability_args
        if not rt.args:
            args = with_ignore_unknown(without_ignore_unknown(entry.args))
        paths = [self.exec.find(p.type, self.path) for p in conf.plugins]
        with self._chain(conf.plugins, paths, "CHECK", rt, args) as calls:
            for i, plugin in enumerate(conf.plugins):
                stdin = request_bytes(
                    plugin,
                    name=conf.name,
                    cni_version=conf.cni_version,
                    prev_result=prev,
                    capability_args=caps,
                )
                self._outcome(plugin, "CHECK", calls.call(i, stdin), conf)

    def delete(self, conf: NetworkConfigList, rt: RuntimeConf) -> None:
        """DEL every plugin in reverse order; idempotent, and every plugin runs even if one fails.

        The cache file goes only when all succeed, so a retry still has the ADD result.
        """
        self._checked(rt)
        path = self._cache_file(conf, rt)
        entry, exists = cache.read_entry(path)
        if exists and entry is None:  # corrupt or empty: DEL without prevResult
            with contextlib.suppress(CtrnetError):  # an unremovable one must not stop the DEL
                cache.remove_entry(path)
        prev = None
        if entry is not None and prev_result_on_del(conf.cni_version):
            prev = self._prev_result(entry, conf, tolerant=True)
        cached = entry if entry is not None and not entry.legacy else None
        caps = rt.capability_args or (cached.capability_args if cached else {})
        pairs = rt.args or (without_ignore_unknown(cached.args) if cached else ())
        args = with_ignore_unknown(pairs)
        netns = rt.netns or (cached.netns if cached else "")
        if netns and os.path.isabs(netns) and not os.path.exists(netns):  # manager core: GUIDs stay
            netns = ""  # gone already: plugins release what lives outside it
        run = RuntimeConf(container_id=rt.container_id, netns=netns, ifname=rt.ifname, args=rt.args)
        errors = self._del_chain(conf, run, args, prev, caps)
        if errors:
            raise_collected(errors, f"network {conf.name!r}: DEL")
        cache.remove_entry(path)

    def gc(self, conf: NetworkConfigList, valid: Sequence[GCAttachment] | None) -> None:
        """DEL every cached attachment of this network not in ``valid``, then GC (1.1.0+).

        ``None`` means every cached attachment is stale and no attachment list is sent (cnitool).
        Errors are collected and raised together at the end.
        """
        if conf.disable_gc:
            return
        keep = {(a.container_id, a.ifname) for a in valid or ()}
        errors: list[BaseException] = []
        for entry in cache.scan_entries(self.cache_dir, conf.name):
            if (entry.container_id, entry.ifname) in keep:
                continue
            try:
                self.delete(
                    conf,
                    RuntimeConf(
                        container_id=entry.container_id,
                        netns=entry.netns,
                        ifname=entry.ifname,
                        args=without_ignore_unknown(entry.args),
                        capability_args=entry.capability_args,
                    ),
                )
            except CtrnetError as exc:
                errors.append(exc)
        if supports_gc_and_status(conf.cni_version):
            extra = attachments_payload(valid) if valid is not None else None
            for plugin in conf.plugins:
                try:
                    path = self.exec.find(plugin.type, self.path)
                    stdin = request_bytes(
                        plugin, name=conf.name, cni_version=conf.cni_version, extra=extra
                    )
                    done = self.exec.run(path, stdin, self._env("GC", None, []), self.timeout)
                    self._outcome(plugin, "GC", done, conf)
                except CtrnetError as exc:
                    errors.append(exc)
        raise_collected(errors, f"network {conf.name!r}: GC")

    def status(self, conf: NetworkConfigList) -> None:
        """STATUS every plugin (1.1.0+; older lists are always ready); the first error raises."""
        if not supports_gc_and_status(conf.cni_version):
            return
        for plugin in conf.plugins:
            path = self.exec.find(plugin.type, self.path)
            stdin = request_bytes(plugin, name=conf.name, cni_version=conf.cni_version)
            done = self.exec.run(path, stdin, self._env("STATUS", None, []), self.timeout)
            self._outcome(plugin, "STATUS", done, conf)

    def version_info(self, plugin_type: str) -> dict[str, Any]:
        """The plugin's VERSION reply (``cniVersion``, ``supportedVersions``)."""
        path = self.exec.find(plugin_type, self.path)
        env = cni_environ(
            {"CNI_COMMAND": "VERSION", "CNI_NETNS": "dummy", "CNI_IFNAME": "dummy"}
            | {"CNI_PATH": "dummy"}
        )
        stdin = json.dumps({"cniVersion": CURRENT_VERSION}).encode()
        done = self.exec.run(path, stdin, env, self.timeout)
        if done.returncode != 0 or done.timed_out:
            err = error_from(
                done, plugin=plugin_type, command="VERSION", network=None, timeout=self.timeout
            )
            if err.msg == "unknown CNI_COMMAND: VERSION":
                return {"cniVersion": "0.1.0", "supportedVersions": ["0.1.0"]}
            raise err
        try:
            return parse_version_reply(done.stdout).to_dict()
        except CtrnetError as exc:
            raise PluginError(
                f"invalid VERSION reply: {exc}", plugin=plugin_type, command="VERSION"
            ) from exc

    def validate(self, conf: NetworkConfigList) -> list[str]:
        """Check every plugin exists and supports the list's version; the capabilities offered."""
        errors: list[BaseException] = []
        for plugin in conf.plugins:
            try:
                versions = self.version_info(plugin.type)["supportedVersions"]
            except CtrnetError as exc:
                errors.append(exc)
                continue
            if conf.cni_version not in versions:
                errors.append(
                    PluginError(
                        f"does not support config version {conf.cni_version!r} "
                        f"(it supports {', '.join(versions)})",
                        plugin=plugin.type,
                        network=conf.name,
                        command="VERSION",
                        code=1,
                    )
                )
        raise_collected(errors, f"network {conf.name!r}: validate")
        return sorted({c for p in conf.plugins for c in p.enabled_capabilities})

    # --- cache queries -------------------------------------------------------------------------

    def cached_result(self, conf: NetworkConfigList, rt: RuntimeConf) -> Result | None:
        """The cached ADD result as a 1.x :class:`Result`; None if missing or unreadable."""
        self._checked(rt)
        entry, _ = cache.read_entry(self._cache_file(conf, rt))
        if entry is None or entry.result is None:
            return None
        try:
            return to_current(parse_result(entry.result, conf.cni_version))
        except CtrnetError:
            return None

    def cached_attachments(self, network: str | None = None) -> list[CachedAttachment]:
        """Every attachment in the cache (optionally of one network), sorted by file name."""
        return cache.scan_entries(self.cache_dir, network)

    # --- internals -----------------------------------------------------------------------------

    def _checked(self, rt: RuntimeConf) -> list[tuple[str, str]]:
        check_container_id(rt.container_id)
        check_ifname(rt.ifname)
        return with_ignore_unknown(rt.args)

    def _cache_file(self, conf: NetworkConfigList, rt: RuntimeConf) -> str:
        return cache.cache_path(self.cache_dir, conf.name, rt.container_id, rt.ifname)

    def _prev_result(
        self, entry: CachedAttachment, conf: NetworkConfigList, *, tolerant: bool = False
    ) -> dict[str, Any] | None:
        """The cached result in the list's version, as wire JSON."""
        return self._in_list_version(entry.result, conf, tolerant=tolerant)

    def _in_list_version(
        self, result: Mapping[str, Any] | None, conf: NetworkConfigList, *, tolerant: bool
    ) -> dict[str, Any] | None:
        raw = dict(result or {})
        if not raw:
            return None
        if raw.get("cniVersion") == conf.cni_version:
            return raw
        try:
            return convert(parse_result(raw, conf.cni_version), conf.cni_version).to_dict()
        except CtrnetError:
            if tolerant:
                return None
            raise

    def _env(
        self, command: str, rt: RuntimeConf | None, args: Sequence[tuple[str, str]]
    ) -> dict[str, str]:
        values = {"CNI_COMMAND": command, "CNI_PATH": self._cni_path}
        if rt is not None:
            values |= {
                "CNI_CONTAINERID": rt.container_id,
                "CNI_NETNS": rt.netns,
                "CNI_IFNAME": rt.ifname,
                "CNI_ARGS": cni_args_string(args),
            }
        return cni_environ(values)

    def _chain(
        self,
        plugins: Sequence[PluginConfig],
        paths: Sequence[str | None],
        command: str,
        rt: RuntimeConf,
        args: Sequence[tuple[str, str]],
    ) -> ChainCalls:
        """The calls of one chain: every plugin gets the same environment."""
        return ChainCalls(
            self.exec,
            paths,
            [p.type for p in plugins],
            self._env(command, rt, args),
            self.timeout,
            self.prestart,
        )

    def _outcome(
        self, plugin: PluginConfig, command: str, done: Completed, conf: NetworkConfigList
    ) -> dict[str, Any]:
        """A call's result object (``{}`` but for ADD); raises the plugin's error."""
        if done.returncode != 0 or done.timed_out:
            raise error_from(
                done, plugin=plugin.type, command=command, network=conf.name, timeout=self.timeout
            )
        if command != "ADD":
            return {}
        return parse_output(
            done,
            plugin=plugin.type,
            command=command,
            network=conf.name,
            cni_version=conf.cni_version,
        )

    def _del_chain(
        self,
        conf: NetworkConfigList,
        rt: RuntimeConf,
        args: Sequence[tuple[str, str]],
        prev: dict[str, Any] | None,
        caps: Mapping[str, Any],
    ) -> list[BaseException]:
        """DEL every plugin in reverse order, each even if an earlier one fails; the errors."""
        errors: list[BaseException] = []
        order = list(reversed(conf.plugins))
        paths: list[str | None] = []
        missing: dict[int, CtrnetError] = {}
        for i, plugin in enumerate(order):
            try:
                paths.append(self.exec.find(plugin.type, self.path))
            except CtrnetError as exc:
                paths.append(None)
                missing[i] = exc
        with self._chain(order, paths, "DEL", rt, args) as calls:
            for i, plugin in enumerate(order):
                try:
                    if i in missing:
                        raise missing[i]
                    stdin = request_bytes(
                        plugin,
                        name=conf.name,
                        cni_version=conf.cni_version,
                        prev_result=prev,
                        capability_args=caps,
                    )
                    self._outcome(plugin, "DEL", calls.call(i, stdin), conf)
                except CtrnetError as exc:
                    errors.append(exc)
        return errors

    def _rollback(
        self,
        conf: NetworkConfigList,
        rt: RuntimeConf,
        args: Sequence[tuple[str, str]],
        prev: dict[str, Any] | None,
        cause: CtrnetError,
    ) -> None:
        """Undo a failed ADD: DEL every plugin (reverse order) with what the chain produced,
        as prevResult in the list's version when the list's version passes one on DEL."""
        if prev_result_on_del(conf.cni_version):
            prev = self._in_list_version(prev, conf, tolerant=True)
        else:
            prev = None
        errors = self._del_chain(conf, rt, args, prev, rt.capability_args)
        if not errors:
            try:
                cache.remove_entry(self._cache_file(conf, rt))
            except CtrnetError as exc:
                errors.append(exc)
        if errors:
            cause.add_note(str(MultipleErrors(errors, "cleanup after the failed ADD")))
