"""What every per-mode implementation shares: the context it runs in and the mode interface."""

from __future__ import annotations

import functools
import os
import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar

from ctrnet._errors import CtrnetError
from ctrnet.manager.modes_impl import files
from ctrnet.manager.records import RecordStore, SandboxRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from ctrnet._settings import Settings
    from ctrnet.cni import CNI
    from ctrnet.cni.exec import Completed, Exec, Started
    from ctrnet.manager.modes import Mode
    from ctrnet.manager.options import NetworkOptions
    from ctrnet.networks import NetworkStore
    from ctrnet.platform import NamespaceBackend, Platform

__all__ = ["PAUSE_ENV", "Context", "ModeImpl", "pause_point"]

#: test-only: ``CTRNET_TEST_PAUSE_AT=<step>`` makes setup print ``paused at <step>`` on stderr
#: and wait there (for crash tests that SIGKILL a setup half way). Steps: ``record``, ``netns``,
#: ``ADD:<plugin type>`` (that plugin's ADD returned), ``add:<i>``, ``files``; in cleanup
#: ``removing``, ``DEL:<plugin type>``, ``cleaned``
PAUSE_ENV = "CTRNET_TEST_PAUSE_AT"


def pause_point(step: str) -> None:
    """Stop here forever if the test hook asks for this step (never set outside tests)."""
    if os.environ.get(PAUSE_ENV) != step:
        return
    sys.stderr.write(f"paused at {step}\n")
    sys.stderr.flush()
    while True:  # pragma: no cover - ended by the test's SIGKILL
        time.sleep(3600)


class Context:
    """The settings, stores and backends a manager works with; heavy parts built on first use."""

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
        from ctrnet.manager.resolvconf import HOST_RESOLV_CONF, SYSTEMD_RESOLVED_CONF

        self.settings = settings
        self.store = RecordStore(settings.data_root)
        #: the host resolver file sandboxes' resolv.conf is built from, and systemd-resolved's
        #: upstream file used when that one only names the 127.0.0.53 stub
        self.host_resolv_conf = host_resolv_conf or HOST_RESOLV_CONF
        self.resolved_resolv_conf = resolved_resolv_conf or SYSTEMD_RESOLVED_CONF
        self._backend = backend
        self._cni = cni
        self._networks = networks

    @functools.cached_property
    def platform(self) -> Platform:
        from ctrnet.platform import get

        return get(self.settings.platform)

    @property
    def backend(self) -> NamespaceBackend:
        if self._backend is None:
            from ctrnet.platform import namespace_backend

            self._backend = namespace_backend(self.settings)
        return self._backend

    @property
    def cni(self) -> CNI:
        if self._cni is None:
            from ctrnet.cni import CNI

            self._cni = CNI.from_settings(self.settings, exec=_pausing_exec())
        return self._cni

    @property
    def cni_cache_dir(self) -> str:
        """The CNI result cache directory, without building the CNI runtime for it."""
        return self._cni.cache_dir if self._cni is not None else self.settings.cache_dir

    @property
    def networks(self) -> NetworkStore:
        if self._networks is None:
            from ctrnet.networks import NetworkStore

            self._networks = NetworkStore(self.settings)
        return self._networks

    def netns_name(self, sandbox_id: str) -> str:
        """The name of the namespace ctrnet creates for a sandbox."""
        return f"ctrnet-{sandbox_id}"

    def remove_owned_netns(self, record: SandboxRecord) -> list[BaseException]:
        """Remove the namespace ctrnet created for ``record`` (not one it joined); the error."""
        if not (record.netns_owned and record.netns):
            return []
        try:
            self.backend.remove(record.netns)
        except CtrnetError as exc:
            return [exc]
        return []

    def planned_netns_path(self, sandbox_id: str) -> str:
        """Where the sandbox's namespace will be (Linux); "" where the path is a new GUID."""
        if not self.platform.default_netns_dir and self.settings.platform != "linux":
            return ""
        return os.path.join(os.path.abspath(self.settings.netns_dir), self.netns_name(sandbox_id))


class ModeImpl:
    """One networking mode: verify, plan, setup, cleanup, labels and the OCI fragment.

    ``plan`` fills the record before anything exists; ``setup`` creates the resources, saving the
    record whenever it learns something cleanup needs; ``cleanup`` works from the record alone and
    returns the errors it met (it never stops early).

    ``setup`` gets ``record_on_disk``, which blocks until the ``creating`` record is synced to
    disk (it is being synced in the background): call it before making anything that outlives a
    reboot (a CNI ADD's leases). What a reboot ends anyway (a namespace, files of the sandbox)
    may come first; the manager waits for the sync itself once ``setup`` returns.
    """

    kind: ClassVar[str]

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def verify(self, opts: NetworkOptions, mode: Mode) -> None:
        """Checks that need state (targets, paths); the pure rules already ran."""

    def plan(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> None:
        raise NotImplementedError

    def setup(
        self,
        record: SandboxRecord,
        opts: NetworkOptions,
        mode: Mode,
        record_on_disk: Callable[[], None],
    ) -> None:
        raise NotImplementedError

    def cleanup(self, record: SandboxRecord) -> list[BaseException]:
        raise NotImplementedError

    def labels(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> dict[str, str]:
        """The nerdctl-style labels to persist with the sandbox (the same for every mode)."""
        return files.labels(self.ctx, record, opts, mode)

    def oci_spec(self, record: SandboxRecord) -> dict[str, Any]:
        """The OCI fragment of the sandbox (the same for every mode)."""
        return files.oci_spec(self.ctx, record)


def _pausing_exec() -> Exec | None:
    """Test-only: an Exec that stops after a plugin call when ``PAUSE_ENV`` names it."""
    step = os.environ.get(PAUSE_ENV, "")
    if ":" not in step or step.split(":", 1)[0] not in ("ADD", "DEL"):
        return None
    from ctrnet.cni.exec import SubprocessExec

    inner = SubprocessExec()

    class PausingStarted:
        def __init__(self, started: Started, step: str) -> None:
            self.started = started
            self.step = step

        def finish(
            self, stdin: bytes, timeout: float, meanwhile: Callable[[], None] | None = None
        ) -> Completed:
            done = self.started.finish(stdin, timeout, meanwhile)
            pause_point(self.step)
            return done

        def abort(self) -> None:
            self.started.abort()

    class PausingExec:
        def find(self, plugin: str, paths: Sequence[str]) -> str:
            return inner.find(plugin, paths)

        def run(self, path: str, stdin: bytes, env: Mapping[str, str], timeout: float) -> Completed:
            done = inner.run(path, stdin, env, timeout)
            pause_point(_step(path, env))
            return done

        def start(self, path: str, env: Mapping[str, str]) -> Started:
            return PausingStarted(inner.start(path, env), _step(path, env))

    return PausingExec()


def _step(path: str, env: Mapping[str, str]) -> str:
    return f"{env.get('CNI_COMMAND', '')}:{os.path.basename(path)}"
