"""OCI bundles: a generated ``config.json`` for a bare rootfs, and private copies of user bundles.

ctrnet never edits a user's bundle. ``stage_bundle`` writes the config it will run (the user's or a
generated one, with the sandbox's fragment merged in) into a private directory whose ``root.path``
points at the real rootfs, so ``runc run --bundle <private dir>`` sees the original files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ctrnet._errors import ValidationError
from ctrnet._fs import atomic_write

__all__ = [
    "OCI_VERSION",
    "default_config",
    "load_config",
    "read_config_json",
    "stage_bundle",
    "with_process_args",
]

OCI_VERSION = "1.0.2"

#: the capabilities docker grants by default (enough for ping, httpd on :80, chown, kill)
DEFAULT_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

_MOUNTS: tuple[dict[str, Any], ...] = (
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
        "destination": "/dev/shm",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    },
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
)


def default_config(
    args: Sequence[str],
    *,
    rootfs: str,
    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
    cwd: str = "/",
    hostname: str | None = None,
    terminal: bool = False,
    readonly: bool = False,
) -> dict[str, Any]:
    """A runc-ready Linux ``config.json`` running ``args`` as root in ``rootfs``.

    It has its own pid, ipc, uts, mount and network namespaces; merging a sandbox's OCI fragment
    replaces the network namespace with the sandbox's path.
    """
    if not args:
        raise ValidationError("no command given to run in the container", option="command")
    caps = list(DEFAULT_CAPS)
    config: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": terminal,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": list(env),
            "cwd": cwd,
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "permitted": caps,
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": readonly},
        "mounts": [dict(m) for m in _MOUNTS],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"},
                {"type": "network"},
                {"type": "ipc"},
                {"type": "uts"},
                {"type": "mount"},
            ],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/sched_debug",
                "/sys/firmware",
            ],
            "readonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }
    if hostname:
        config["hostname"] = hostname
    return config


def read_config_json(bundle: str | os.PathLike[str], *, option: str, usage: str) -> Any:
    """The decoded ``<bundle>/config.json``; a missing or unreadable one is a ValidationError
    naming the file and *option* (*usage*: "--bundle must be", for "... an OCI bundle directory")."""
    path = Path(bundle, "config.json")
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ValidationError(
            f"{path} does not exist; {usage} an OCI bundle directory (see `runc spec`)",
            option=option,
            value=str(bundle),
        ) from None
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"{path} is not a readable JSON OCI config: {exc}", option=option, value=str(bundle)
        ) from None


def load_config(bundle: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``<bundle>/config.json``; the error names the file and what is wrong with it."""
    path = Path(bundle, "config.json")
    data = read_config_json(bundle, option="bundle", usage="--bundle must be")
    if not isinstance(data, dict) or not isinstance(data.get("root"), dict):
        raise ValidationError(
            f"{path} has no root.path; it is not an OCI runtime config",
            option="bundle",
            value=str(bundle),
        )
    # make root.path absolute so the config can run from another directory
    root = data["root"]
    root_path = root.get("path")
    if not isinstance(root_path, str) or not root_path:
        raise ValidationError(f"{path}: root.path is empty", option="bundle", value=str(bundle))
    root["path"] = str(Path(bundle, root_path).resolve())
    return data


def with_process_args(config: Mapping[str, Any], args: Sequence[str]) -> dict[str, Any]:
    """A copy of ``config`` whose process runs ``args`` instead (when any are given)."""
    out = json.loads(json.dumps(config))
    if args:
        out.setdefault("process", {})["args"] = list(args)
    return out  # type: ignore[no-any-return]


def stage_bundle(directory: str | os.PathLike[str], config: Mapping[str, Any]) -> str:
    """Write ``config`` as ``<directory>/config.json`` (root.path must be absolute); return the dir."""
    root_path = config.get("root", {}).get("path", "")
    if not os.path.isabs(root_path):
        raise ValidationError(
            f"root.path {root_path!r} must be absolute in a staged bundle",
            option="rootfs",
            value=root_path,
        )
    if not os.path.isdir(root_path):
        raise ValidationError(
            f"rootfs {root_path} is not a directory; give a directory holding the container's files",
            option="rootfs",
            value=root_path,
        )
    os.makedirs(directory, mode=0o700, exist_ok=True)
    atomic_write(Path(directory, "config.json"), json.dumps(config, indent=2) + "\n", mode=0o600)
    return str(directory)
