"""Host clean-up when a bridge network is removed: its bridge device and isolation rules.

The firewall plugin adds per-bridge rules to ``CNI-ISOLATION-STAGE-1/2`` and never removes them;
only those exact rules are deleted (``iptables -D``), never a chain flush.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import subprocess

from ctrnet._errors import PermissionDenied, SystemError_

__all__ = [
    "delete_bridge",
    "delete_isolation_rules",
    "isolation_rules",
    "link_exists",
    "remove_lease_dir",
]

ISOLATION_CHAINS = ("CNI-ISOLATION-STAGE-1", "CNI-ISOLATION-STAGE-2")


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _link_kind(name: str) -> str | None:
    """The kind of link ``name`` ("" for a plain device), or None when it does not exist."""
    proc = _run(["ip", "-j", "-d", "link", "show", "dev", name])
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout or "[]")
    if not data:
        return None
    return str(data[0].get("linkinfo", {}).get("info_kind", ""))


def link_exists(name: str) -> bool:
    """Whether the host (this network namespace) has a link ``name`` (read-only look-up)."""
    return os.path.lexists(f"/sys/class/net/{name}")


def delete_bridge(name: str) -> bool:
    """Delete the bridge device ``name`` if it exists and is a bridge; True if it was deleted."""
    if _link_kind(name) != "bridge":
        return False
    proc = _run(["ip", "link", "del", "dev", name])
    if proc.returncode != 0:
        if _link_kind(name) is None:
            return False  # somebody else removed it meanwhile
        if "Operation not permitted" in proc.stderr:
            raise PermissionDenied(f"deleting bridge {name}")
        raise SystemError_(f"cannot delete bridge {name}: {proc.stderr.strip()}")
    return True


def isolation_rules(bridge: str, tool: str = "iptables") -> list[tuple[str, list[str]]]:
    """(chain, rule spec) of each isolation rule that names ``bridge`` as its in/out device."""
    found: list[tuple[str, list[str]]] = []
    import shutil

    if shutil.which(tool) is None:
        return found
    for chain in ISOLATION_CHAINS:
        proc = _run([tool, "-w", "-t", "filter", "-S", chain])
        if proc.returncode != 0:
            continue  # the chain does not exist: nothing of ours in it
        for line in proc.stdout.splitlines():
            tokens = shlex.split(line)
            if len(tokens) < 3 or tokens[0] != "-A" or tokens[1] != chain:
                continue
            spec = tokens[2:]
            devices = {spec[i + 1] for i, t in enumerate(spec[:-1]) if t in ("-i", "-o")}
            if bridge in devices:
                found.append((chain, spec))
    return found


def delete_isolation_rules(bridge: str) -> int:
    """Delete the firewall plugin's isolation rules for ``bridge`` (IPv4 and IPv6); the count."""
    count = 0
    for tool in ("iptables", "ip6tables"):
        for chain, spec in isolation_rules(bridge, tool):
            proc = _run([tool, "-w", "-t", "filter", "-D", chain, *spec])
            if proc.returncode == 0:
                count += 1
            elif "Permission denied" in proc.stderr or "not permitted" in proc.stderr:
                raise PermissionDenied(f"deleting {tool} rule in {chain}")
            elif "does a matching rule exist" not in proc.stderr.lower():
                raise SystemError_(
                    f"cannot delete {tool} rule {chain} {' '.join(spec)}: {proc.stderr.strip()}"
                )
    return count


#: where host-local keeps its leases when the config sets no ``dataDir``
LEASE_ROOT = "/var/lib/cni/networks"


def remove_lease_dir(network: str, root: str = LEASE_ROOT) -> bool:
    """Tidy host-local's directory for ``network`` once it holds no lease; True if tidied.

    The directory is shared by every network of that name in any conf dir (every default network
    is "bridge"), so another process may be allocating in it. Under host-local's own lock
    (``flock`` on ``<dir>/lock``) and only if no lease is there, the ``last_reserved_ip.*`` files
    go; the directory and its ``lock`` file stay: unlinking them would let an allocator already
    waiting on the old lock file and one that recreated it allocate at the same time.
    """
    path = os.path.join(root, network)
    try:
        fd = os.open(os.path.join(path, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return False  # not ours to fix: the leases are host-local's
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entries = os.listdir(path)
        if any(e != "lock" and not e.startswith("last_reserved_ip") for e in entries):
            return False  # a lease is held: leave it for its owner to release
        for entry in entries:
            if entry.startswith("last_reserved_ip"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(path, entry))
        return True
    finally:
        os.close(fd)  # closing releases the flock
