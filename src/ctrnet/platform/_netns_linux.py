"""Linux network namespaces as bind mounts under a directory, made with syscalls (no ``ip``).

A namespace is created in a short-lived thread: the thread ``unshare(CLONE_NEWNET)``s, its
``/proc/self/task/<tid>/ns/net`` is bind-mounted onto ``<netns_dir>/<name>``, and the thread
exits, so no thread of the process ever stays in a foreign namespace. The directory is made a
shared mount first, as ``ip netns add`` does, so both tools see and remove each other's entries.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import struct
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ctrnet._errors import ConflictError, PermissionDenied, SystemError_, ValidationError

__all__ = ["NetnsBackend", "run_in_namespace", "validate_name"]

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 0x2
NS_GET_NSTYPE = 0xB703
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
AF_INET = 2
SOCK_DGRAM_CLOEXEC = 2 | 0o2000000  # SOCK_DGRAM | SOCK_CLOEXEC
_IFREQ = "16sh22x"  # struct ifreq: name, ifr_flags, rest of the union
_NAME_MAX = 255

_dir_lock = threading.Lock()


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare.argtypes = [ctypes.c_int]
    libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    ]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libc.socket.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return libc


def _os_error(what: str, err: int) -> SystemError_:
    if err in (errno.EPERM, errno.EACCES):
        return PermissionDenied(what)
    return SystemError_(f"{what}: {os.strerror(err)}")


def _check(ret: int, what: str) -> None:
    if ret != 0:
        raise _os_error(what, ctypes.get_errno())


def validate_name(name: str) -> None:
    """Refuse namespace names that are not a single plain file name."""
    bad = (
        not name
        or name in (".", "..")
        or ".." in name
        or "/" in name
        or "\0" in name
        or any(ch.isspace() for ch in name)
        or len(name.encode()) > _NAME_MAX
    )
    if bad:
        raise ValidationError(
            f"invalid network namespace name {name!r}: use 1-{_NAME_MAX} bytes without "
            "'/', '..', NUL or whitespace",
            option="name",
            value=name,
        )


def _in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh thread that exits afterwards; return its result or raise its error."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="ctrnet-netns", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def run_in_namespace(path: str, fn: Callable[[], T]) -> T:
    """Call ``fn`` in a thread that has joined the network namespace at ``path``.

    Sockets ``fn`` opens belong to that namespace; the calling thread never changes namespace.
    """

    def enter() -> T:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise SystemError_(f"network namespace {path} does not exist") from None
        except PermissionError:
            raise PermissionDenied(f"open network namespace {path}") from None
        try:
            _check(_libc().setns(fd, CLONE_NEWNET), f"enter network namespace {path}")
        finally:
            os.close(fd)
        return fn()

    return _in_thread(enter)


def _is_netns(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET
    except OSError:
        return False
    finally:
        os.close(fd)


def _loopback_up() -> None:
    # a socket made through libc: the socket module costs ~2.5 ms of every command's start
    fd = _libc().socket(AF_INET, SOCK_DGRAM_CLOEXEC, 0)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    try:
        req = struct.pack(_IFREQ, b"lo", 0)
        _, flags = struct.unpack(_IFREQ, fcntl.ioctl(fd, SIOCGIFFLAGS, req))
        if not flags & IFF_UP:
            fcntl.ioctl(fd, SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | IFF_UP))
    finally:
        os.close(fd)


class NetnsBackend:
    """Named network namespaces under ``netns_dir`` (default ``/run/netns``), ``ip netns`` style."""

    def __init__(self, netns_dir: str = "/run/netns") -> None:
        self.netns_dir = os.path.abspath(netns_dir)

    def path_of(self, name: str) -> str:
        validate_name(name)
        return os.path.join(self.netns_dir, name)

    def allocate(self, name: str) -> str:
        """The path :meth:`create` gives ``name`` (``<netns_dir>/<name>``); nothing is created."""
        return self.path_of(name)

    def create(self, name: str, path: str | None = None) -> str:
        """Create ``<netns_dir>/<name>`` as a new network namespace and return that path.

        ``path``, when given, must be what :meth:`allocate` returned for ``name``.
        """
        planned = self.path_of(name)
        if path is not None and os.path.abspath(path) != os.path.abspath(planned):
            raise ValidationError(
                f"network namespace path {path!r} is not where {name!r} goes ({planned}); "
                "pass the path allocate() returned",
                option="path",
                value=path,
            )
        path = planned
        self._prepare_dir()
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0)
        except FileExistsError:
            raise ConflictError(
                f"network namespace {path} already exists; pick another name or remove it first"
            ) from None
        except PermissionError:
            raise PermissionDenied(f"create network namespace {path}") from None
        os.close(fd)
        try:
            _in_thread(functools.partial(self._mount_new, path))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        return path

    def remove(self, path: str) -> None:
        """Unmount and delete a namespace made by :meth:`create`; already gone is fine."""
        target = self._own_path(path)
        ret = _libc().umount2(os.fsencode(target), MNT_DETACH)
        if ret != 0:
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOENT):  # not a mount point / no such file
                raise _os_error(f"unmount network namespace {target} (needs CAP_SYS_ADMIN)", err)
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass
        except PermissionError:
            raise PermissionDenied(f"remove network namespace {target}") from None

    def exists(self, path: str) -> bool:
        """Whether ``path`` is a live network namespace (not just a leftover file)."""
        return _is_netns(path)

    def set_loopback_up(self, path: str) -> None:
        """Bring ``lo`` up inside the namespace at ``path`` (a no-op if it is up)."""
        try:
            run_in_namespace(path, _loopback_up)
        except PermissionError:
            raise PermissionDenied(f"bring lo up in {path}") from None
        except OSError as exc:
            raise _os_error(f"bring lo up in {path}", exc.errno or errno.EIO) from None

    # --- internals -------------------------------------------------------------------------------

    def _own_path(self, path: str) -> str:
        target = os.path.abspath(path)
        if os.path.dirname(target) != self.netns_dir:
            raise ValidationError(
                f"{path!r} is not a namespace under {self.netns_dir}; "
                "only namespaces this backend created can be removed",
                option="path",
                value=path,
            )
        validate_name(os.path.basename(target))
        return target

    def _prepare_dir(self) -> None:
        """Make the directory a shared mount point, as ``ip netns add`` does."""
        with _dir_lock:
            try:
                os.makedirs(self.netns_dir, mode=0o755, exist_ok=True)
            except PermissionError:
                raise PermissionDenied(f"create {self.netns_dir}") from None
            libc = _libc()
            target = os.fsencode(self.netns_dir)
            if libc.mount(b"", target, b"none", MS_SHARED | MS_REC, None) == 0:
                return
            err = ctypes.get_errno()
            if err != errno.EINVAL:  # EINVAL: not a mount point yet
                raise _os_error(f"make {self.netns_dir} a shared mount (needs CAP_SYS_ADMIN)", err)
            _check(
                libc.mount(target, target, b"none", MS_BIND | MS_REC, None),
                f"bind-mount {self.netns_dir} onto itself",
            )
            _check(
                libc.mount(b"", target, b"none", MS_SHARED | MS_REC, None),
                f"make {self.netns_dir} a shared mount",
            )

    @staticmethod
    def _mount_new(path: str) -> None:
        """In a throwaway thread: enter a new network namespace and pin it at ``path``."""
        libc = _libc()
        _check(libc.unshare(CLONE_NEWNET), "create a network namespace (needs CAP_SYS_ADMIN)")
        source = f"/proc/self/task/{threading.get_native_id()}/ns/net"
        _check(
            libc.mount(os.fsencode(source), os.fsencode(path), b"none", MS_BIND, None),
            f"bind-mount the new network namespace onto {path}",
        )
