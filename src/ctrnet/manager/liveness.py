"""Is a sandbox's workload still there? Process identities that survive PID reuse, and which
network namespaces processes still live in.

A workload is recorded as its PID plus the process's start time (field 22 of ``/proc/<pid>/stat``,
clock ticks since boot), the boot ID and the PID namespace it was seen from: a PID that was
reused, a reboot, or a look from another PID namespace can then never pass for the same process.
When in doubt (``/proc`` unreadable, another PID namespace) the workload counts as alive: GC
reclaims only what is certainly dead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Workload", "is_alive", "namespace_id", "namespaces_in_use", "workload_of"]

PROC = "/proc"
BOOT_ID = "/proc/sys/kernel/random/boot_id"


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One process a sandbox lives for; the ``workload`` object of a sandbox record."""

    pid: int
    #: start time of the process in clock ticks after boot (``/proc/<pid>/stat`` field 22)
    start: int
    boot_id: str = ""
    #: ``pid:[inode]`` of the PID namespace the PID is valid in
    pidns: str = ""
    #: what it is: ``ctrnet-run`` (our own run command) or ``oci`` (a container's init)
    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Workload | None:
        """The workload a record holds, or None if it holds none (or nothing usable)."""
        try:
            pid, start = int(data["pid"]), int(data["start"])
        except (KeyError, TypeError, ValueError):
            return None
        if pid <= 0:
            return None
        return cls(
            pid=pid,
            start=start,
            boot_id=str(data.get("boot_id") or ""),
            pidns=str(data.get("pidns") or ""),
            kind=str(data.get("kind") or ""),
        )


def _start_time(pid: int, proc: str) -> int | None:
    """Field 22 of ``<proc>/<pid>/stat``; None if there is no such process (or only its zombie,
    which no one has reaped yet)."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), "rb") as fh:
            text = fh.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # the command name (field 2) is in parentheses and may hold spaces or ')': split after the last
    fields = text[text.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None  # it has exited
    return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)


def _read(path: str) -> str:
    with contextlib.suppress(OSError), open(path, encoding="ascii", errors="replace") as fh:
        return fh.read().strip()
    return ""


def _pidns(proc: str) -> str:
    with contextlib.suppress(OSError):
        return os.readlink(os.path.join(proc, "self", "ns", "pid"))
    return ""


def workload_of(pid: int, kind: str = "", *, proc: str = PROC) -> Workload:
    """The identity of live process ``pid`` (raises ``ProcessLookupError`` if it is gone)."""
    start = _start_time(pid, proc)
    if start is None:
        raise ProcessLookupError(pid)
    return Workload(
        pid=pid,
        start=start,
        boot_id=_read(os.path.join(proc, "sys", "kernel", "random", "boot_id")),
        pidns=_pidns(proc),
        kind=kind,
    )


def is_alive(workload: Workload, *, proc: str = PROC) -> bool:
    """False only when the process is certainly gone: no such PID, another start time, another
    boot. True when it runs, or when this process cannot tell (another PID namespace, no /proc)."""
    if workload.pidns and workload.pidns != _pidns(proc):
        return True  # its PID means another process here, or none: cannot judge
    boot = _read(os.path.join(proc, "sys", "kernel", "random", "boot_id"))
    if workload.boot_id and boot and workload.boot_id != boot:
        return False  # recorded before a reboot
    try:
        start = _start_time(workload.pid, proc)
    except (OSError, ValueError, IndexError):
        return True
    return start is not None and start == workload.start


def namespace_id(path: str) -> tuple[int, int] | None:
    """(device, inode) of the network namespace at ``path`` (a bind mount or /proc/<pid>/ns/net)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def namespaces_in_use(*, proc: str = PROC) -> set[tuple[int, int]]:
    """The network namespaces some process of this PID namespace is in, as (device, inode)."""
    found: set[tuple[int, int]] = set()
    try:
        entries = os.listdir(proc)
    except OSError:
        return found
    for entry in entries:
        if entry.isdigit():
            ident = namespace_id(os.path.join(proc, entry, "ns", "net"))
            if ident is not None:
                found.add(ident)
    return found
