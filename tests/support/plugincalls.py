"""The plugin calls a test makes through ``SubprocessExec``: when each plugin's process started,
when it was given its input and when it was done (``time.monotonic``), from any thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest

from ctrnet.cni.exec import Completed, Started, SubprocessExec

__all__ = ["PluginCall", "PluginCalls"]


@dataclass
class PluginCall:
    plugin: str
    command: str
    started: float  # the process exists
    fed: float = 0.0  # it got its input
    done: float = 0.0


class PluginCalls:
    """Every call of ``SubprocessExec.run`` and ``start`` once installed, in the order the
    processes were started; ``on_feed(call)`` runs when a plugin is given its input."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        on_feed: Callable[[PluginCall], None] | None = None,
    ) -> None:
        self.calls: list[PluginCall] = []
        self._on_feed = on_feed
        self._lock = threading.Lock()
        real_run = SubprocessExec.run
        real_start = SubprocessExec.start
        calls = self

        class Watched:
            def __init__(self, inner: Started, call: PluginCall) -> None:
                self.inner, self.call = inner, call

            def finish(
                self, stdin: bytes, timeout: float, meanwhile: Callable[[], None] | None = None
            ) -> Completed:
                calls._fed(self.call)
                try:
                    return self.inner.finish(stdin, timeout, meanwhile)
                finally:
                    self.call.done = time.monotonic()

            def abort(self) -> None:
                self.inner.abort()

        def start(exec_: SubprocessExec, path: str, env: Mapping[str, str]) -> Started:
            return Watched(real_start(exec_, path, env), calls._note(path, env))

        def run(
            exec_: SubprocessExec, path: str, stdin: bytes, env: Mapping[str, str], timeout: float
        ) -> Completed:
            call = calls._note(path, env)
            calls._fed(call)
            try:
                return real_run(exec_, path, stdin, env, timeout)
            finally:
                call.done = time.monotonic()

        monkeypatch.setattr(SubprocessExec, "start", start)
        monkeypatch.setattr(SubprocessExec, "run", run)

    def of(self, command: str) -> list[PluginCall]:
        return [c for c in self.calls if c.command == command]

    def _note(self, path: str, env: Mapping[str, str]) -> PluginCall:
        call = PluginCall(os.path.basename(path), env["CNI_COMMAND"], time.monotonic())
        with self._lock:
            self.calls.append(call)
        return call

    def _fed(self, call: PluginCall) -> None:
        call.fed = time.monotonic()
        if self._on_feed is not None:
            self._on_feed(call)
