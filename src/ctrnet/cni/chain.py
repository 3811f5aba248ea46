"""A chain's plugin calls, in order, with the next plugin's process started while one works.

Starting a plugin costs about 2.5 ms here (exec and the Go runtime's start) before it reads its
input. A plugin built on libcni's ``skel`` reads its environment and then all of stdin before it
does anything else, so its process can be started while the previous plugin of the chain runs
and be handed its input (with that plugin's result as ``prevResult``) the moment it finishes: the
calls stay strictly one after another, only the start-up overlaps. That is assumed only of the
plugins in :data:`REFERENCE_PLUGINS` (containernetworking-plugins, all ``skel`` based) unless the
caller names others; a started plugin that is not needed (the chain failed) is killed before it
has read anything.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from types import TracebackType

from ctrnet.cni.exec import Completed, Exec, Started, StartingExec

__all__ = ["REFERENCE_PLUGINS", "ChainCalls"]

#: the plugins of containernetworking-plugins: each reads all of stdin before it acts
REFERENCE_PLUGINS: frozenset[str] = frozenset(
    {
        "bandwidth",
        "bridge",
        "dhcp",
        "dummy",
        "firewall",
        "host-device",
        "host-local",
        "ipvlan",
        "loopback",
        "macvlan",
        "portmap",
        "ptp",
        "sbr",
        "static",
        "tap",
        "tuning",
        "vlan",
        "vrf",
    }
)


class ChainCalls:
    """Call ``i`` of a chain runs plugin ``paths[i]`` (``None``: not found, never called) with
    ``env``; while it works, plugin ``i + 1`` is started if its type is in ``prestart``.

    Use as a context manager: on exit a plugin started for a call that never came is killed.
    """

    def __init__(
        self,
        exec_: Exec,
        paths: Sequence[str | None],
        types: Sequence[str],
        env: Mapping[str, str],
        timeout: float,
        prestart: Collection[str],
    ) -> None:
        self.exec = exec_
        self.paths = list(paths)
        self.types = list(types)
        self.env = env
        self.timeout = timeout
        self.prestart = prestart
        self._starter = exec_ if prestart and isinstance(exec_, StartingExec) else None
        self._ahead: dict[int, Started] = {}

    def call(self, i: int, stdin: bytes) -> Completed:
        """Run plugin ``i`` with ``stdin``; plugin ``i`` must have been found."""
        path = self.paths[i]
        assert path is not None
        started = self._ahead.pop(i, None)
        if self._starter is not None and self._may_start(i + 1):
            # this plugin needs a process of its own to start the next one while it works
            started = started or self._starter.start(path, self.env)
            return started.finish(stdin, self.timeout, lambda: self.start(i + 1))
        if started is not None:
            return started.finish(stdin, self.timeout)
        return self.exec.run(path, stdin, self.env, self.timeout)

    def start(self, i: int) -> None:
        """Start plugin ``i`` ahead of its call (if its type may be and it is not running)."""
        if self._starter is not None and self._may_start(i) and i not in self._ahead:
            path = self.paths[i]
            assert path is not None
            self._ahead[i] = self._starter.start(path, self.env)

    def _may_start(self, i: int) -> bool:
        return i < len(self.paths) and self.paths[i] is not None and self.types[i] in self.prestart

    def close(self) -> None:
        """Kill the plugins started for calls that did not come."""
        while self._ahead:
            _, started = self._ahead.popitem()
            started.abort()

    def __enter__(self) -> ChainCalls:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
