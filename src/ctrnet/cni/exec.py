"""Running one plugin per the SPEC: env + stdin in, result or error JSON out, with a timeout.

:class:`Exec` is the seam tests inject through; :class:`SubprocessExec` is the real one. Turning an
exit status and output into a result or a :class:`PluginError` lives here, once, for every Exec.
An Exec that can also :meth:`~StartingExec.start` a plugin's process before its input is known
(:class:`StartingExec`) lets the runtime start the next plugin of a chain while one runs.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ctrnet._errors import PluginError, PluginExecError, PluginTimeout
from ctrnet.cni.plugins import find_plugin

__all__ = [
    "CNI_VARS",
    "Completed",
    "Exec",
    "Started",
    "StartingExec",
    "SubprocessExec",
    "cni_environ",
    "error_from",
    "parse_output",
]

#: the six variables every call sets (empty where a value does not apply), in libcni's order
CNI_VARS = ("CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_ARGS", "CNI_IFNAME", "CNI_PATH")
_STDERR_LIMIT = 4000


@dataclass(frozen=True)
class Completed:
    """What one plugin process did: exit status (negative: killed by that signal) and output."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


class Exec(Protocol):
    """How plugins are found and run; inject a fake to test the runtime without processes."""

    def find(self, plugin: str, paths: Sequence[str]) -> str:
        """The path of ``plugin`` in ``paths``; raises PluginNotFound / ValidationError."""
        ...

    def run(self, path: str, stdin: bytes, env: Mapping[str, str], timeout: float) -> Completed:
        """Run ``path`` with exactly ``env``; kill it after ``timeout`` seconds."""
        ...


def cni_environ(values: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) plus all six ``CNI_*`` variables; ours win."""
    env = dict(os.environ if base is None else base)
    for key in CNI_VARS:
        env[key] = values.get(key, "")
    return env


class Started(Protocol):
    """A plugin process that is running but has not been given its input yet."""

    def finish(
        self, stdin: bytes, timeout: float, meanwhile: Callable[[], None] | None = None
    ) -> Completed:
        """Feed ``stdin``, wait (at most ``timeout`` s from now) and collect what it did.

        ``meanwhile`` is called once the plugin has its input, while it works.
        """
        ...

    def abort(self) -> None:
        """End a plugin that was never given its input (it did nothing yet); idempotent."""
        ...


@runtime_checkable
class StartingExec(Exec, Protocol):
    """An Exec that can start a plugin's process ahead of its input."""

    def start(self, path: str, env: Mapping[str, str]) -> Started:
        """Start ``path`` with exactly ``env``; it waits for its input on stdin."""
        ...


class SubprocessExec:
    """Runs plugins as child processes in their own process group (a timeout kills them all)."""

    def __init__(
        self, *, busy_retries: int = 5, busy_delay: float = 1.0, drain_timeout: float = 5.0
    ) -> None:
        self.busy_retries = busy_retries
        self.busy_delay = busy_delay
        #: after a kill, how long to wait for the output pipes to close; a grandchild that left
        #: the process group (setsid) may hold them open forever
        self.drain_timeout = drain_timeout

    def find(self, plugin: str, paths: Sequence[str]) -> str:
        return find_plugin(plugin, paths)

    def run(self, path: str, stdin: bytes, env: Mapping[str, str], timeout: float) -> Completed:
        return self._finish(self._spawn(path, env, retry=True), stdin, timeout, None)

    def start(self, path: str, env: Mapping[str, str]) -> Started:
        """The plugin's process, started now; one that cannot start yet ("text file busy", or
        an error) is started by :meth:`Started.finish` instead, with :meth:`run`'s retries."""
        try:
            proc = self._spawn(path, env, retry=False)
        except PluginExecError:
            return _Deferred(self, path, dict(env))
        return _Running(self, proc)

    def _spawn(self, path: str, env: Mapping[str, str], *, retry: bool) -> _PluginProcess:
        attempt = 0
        while True:
            try:
                return _PluginProcess(
                    [path],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=dict(env),
                    process_group=0,  # setsid would cost ~5 ms a call: it rules out vfork
                )
            except OSError as exc:
                # "text file busy": the binary is still being written; a fresh process each time
                if retry and exc.errno == errno.ETXTBSY and attempt < self.busy_retries:
                    attempt += 1
                    time.sleep(self.busy_delay)
                    continue
                raise PluginExecError(
                    f"cannot execute {path}: {exc.strerror or exc}", plugin=os.path.basename(path)
                ) from exc

    def _finish(
        self,
        proc: _PluginProcess,
        stdin: bytes,
        timeout: float,
        meanwhile: Callable[[], None] | None,
    ) -> Completed:
        try:
            if meanwhile is not None and len(stdin) <= _EARLY_INPUT_LIMIT:
                # fits in the pipe: written at once, so the plugin works while ``meanwhile`` runs
                _feed(proc, stdin)
                meanwhile()
                out, err = proc.communicate(timeout=timeout)
            else:
                out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = self._drain(proc)
            return Completed(proc.returncode, out, err, timed_out=True)
        except BaseException:
            _kill_group(proc)
            self._drain(proc)
            raise
        return Completed(proc.returncode, out, err)

    def _drain(self, proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
        """Collect a killed plugin's output and reap it, without waiting on escaped children."""
        try:
            return proc.communicate(timeout=self.drain_timeout)
        except subprocess.TimeoutExpired:
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            proc.wait()
            return b"", b""


#: the largest input written before ``meanwhile``; well under a pipe's 64 KiB, so it never blocks
_EARLY_INPUT_LIMIT = 16 * 1024


def _feed(proc: subprocess.Popen[bytes], stdin: bytes) -> None:
    """Write all of ``stdin`` and close it (``communicate`` then only reads); a plugin that
    exited without reading is fine, as with ``communicate``."""
    pipe = proc.stdin
    assert pipe is not None
    proc.stdin = None
    try:
        pipe.write(stdin)
        pipe.close()
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            pipe.close()


class _Running:
    """A started :class:`SubprocessExec` plugin, waiting for its input."""

    def __init__(self, owner: SubprocessExec, proc: _PluginProcess) -> None:
        self._owner = owner
        self._proc = proc

    def finish(
        self, stdin: bytes, timeout: float, meanwhile: Callable[[], None] | None = None
    ) -> Completed:
        return self._owner._finish(self._proc, stdin, timeout, meanwhile)

    def abort(self) -> None:
        if self._proc.returncode is None:
            _kill_group(self._proc)
            self._owner._drain(self._proc)


class _Deferred:
    """A plugin whose process could not be started ahead: :meth:`finish` runs it then."""

    def __init__(self, owner: SubprocessExec, path: str, env: dict[str, str]) -> None:
        self._owner = owner
        self._path = path
        self._env = env

    def finish(
        self, stdin: bytes, timeout: float, meanwhile: Callable[[], None] | None = None
    ) -> Completed:
        proc = self._owner._spawn(self._path, self._env, retry=True)
        return self._owner._finish(proc, stdin, timeout, meanwhile)

    def abort(self) -> None:
        return None


class _PluginProcess(subprocess.Popen[bytes]):
    """A Popen whose timed ``wait`` (the end of ``communicate(timeout=...)``) sleeps on a pidfd
    until the plugin exits, instead of polling with sleeps of 0.5 ms and more; the polling cost
    0.1-0.6 ms per plugin call here, more the busier the machine."""

    def wait(self, timeout: float | None = None) -> int:
        if timeout is not None and self.returncode is None:
            try:
                pidfd = os.pidfd_open(self.pid)
            except OSError:  # no pidfd (old kernel) or already reaped: the polling wait
                return super().wait(timeout)
            try:
                poller = select.poll()  # not select(): the fd may be above FD_SETSIZE
                poller.register(pidfd, select.POLLIN)
                ready = poller.poll(max(timeout, 0.0) * 1000)
            finally:
                os.close(pidfd)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout)
        return super().wait(timeout)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.kill()


def _text(data: bytes, limit: int = _STDERR_LIMIT) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "..."


def error_from(
    done: Completed, *, plugin: str, command: str, network: str | None, timeout: float
) -> PluginError:
    """The error for a failed call, with libcni's fallbacks for missing or garbled JSON."""
    where: dict[str, Any] = {"plugin": plugin, "network": network, "command": command}
    stderr = _text(done.stderr)
    if done.timed_out:
        return PluginTimeout(
            f"no answer within {timeout:g}s; the plugin was killed (raise the timeout if it is "
            "just slow)",
            stderr=stderr,
            **where,
        )
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        return PluginExecError(f"killed by {name}", stderr=stderr, **where)
    stdout = done.stdout.strip()
    if not stdout:
        status = f"exited with status {done.returncode}"
        if stderr:
            return PluginExecError(f"{status} and printed no error object", stderr=stderr, **where)
        return PluginExecError(f"{status} with no error message", **where)
    try:
        obj = json.loads(stdout)
    except (ValueError, UnicodeDecodeError):
        obj = None
    if not isinstance(obj, dict) or not isinstance(obj.get("msg", ""), str):
        return PluginExecError(
            f"exited with status {done.returncode} and printed output that is not a CNI error "
            f"object: {_text(stdout, 500)!r}",
            stderr=stderr,
            **where,
        )
    code = obj.get("code")
    details = obj.get("details", "")
    return PluginError(
        obj.get("msg") or f"exited with status {done.returncode}",
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        details=details if isinstance(details, str) else json.dumps(details),
        stderr=stderr,
        **where,
    )


def parse_output(
    done: Completed, *, plugin: str, command: str, network: str | None, cni_version: str
) -> dict[str, Any]:
    """The JSON object a successful call printed (``{}`` for none or ``null``).

    A missing ``cniVersion`` is filled from the config, as libcni does.
    """
    text = done.stdout.strip()
    if not text:
        return {}
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise PluginExecError(
            f"succeeded but printed invalid JSON: {_text(text, 500)!r}",
            plugin=plugin,
            network=network,
            command=command,
            stderr=_text(done.stderr),
        ) from None
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise PluginExecError(
            f"succeeded but printed {type(obj).__name__} instead of a JSON object",
            plugin=plugin,
            network=network,
            command=command,
            stderr=_text(done.stderr),
        )
    if not obj.get("cniVersion"):
        obj["cniVersion"] = cni_version
    return obj
