"""The OCI hook adapter: ctrnet sandboxes for runtimes that can only call hooks (plain runc...).

``hook_fragment`` (``ctrnet oci-hook --print-hooks``) gives the lines to merge into
``config.json``: a ``createRuntime`` and a ``poststop`` hook calling ``ctrnet oci-hook EVENT`` with
the caller's settings in their environment, the annotations naming the sandbox and its options,
and bind mounts of three staged files for /etc/hosts, /etc/resolv.conf and /etc/hostname
(created empty now, since runc mounts them before the hook runs).

At ``createRuntime`` the container's network namespace (``/proc/<pid>/ns/net``) is pinned at
``<netns_dir>/ctrnet-<id>`` and the manager sets the sandbox up in it, so the namespace outlives
the container and ``poststop``'s CNI DEL sees the real namespace (DEL into a vanished namespace
leaks the bridge plugin's masquerade rules). The staged files get the sandbox's content and
become hard links of the sandbox's own files, so later hosts updates reach the container.
``poststop`` tears the sandbox down. Only what the hook uses is imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctrnet._errors import PermissionDenied, SystemError_, ValidationError

if TYPE_CHECKING:
    from ctrnet._settings import Settings
    from ctrnet.manager import NetworkOptions
    from ctrnet.platform import NamespaceBackend

__all__ = [
    "ANN_NAME",
    "ANN_OPTIONS",
    "ANN_SANDBOX",
    "create_runtime",
    "hook_fragment",
    "options_from_annotations",
    "parse_state",
    "poststop",
]

ANN_SANDBOX = "ctrnet/sandbox-id"
ANN_OPTIONS = "ctrnet/network-options"
ANN_NAME = "nerdctl/name"
FILES = (
    ("hosts", "/etc/hosts"),
    ("resolv.conf", "/etc/resolv.conf"),
    ("hostname", "/etc/hostname"),
)
MS_BIND = 0x1000
_ENV_KEYS = ("PATH",)


def parse_state(data: bytes) -> dict[str, Any]:
    """The OCI state runc passes on stdin; the error says what is missing."""
    try:
        state = json.loads(data)
    except ValueError as exc:
        raise ValidationError(f"OCI state on stdin is not JSON: {exc}", option="stdin") from None
    if not isinstance(state, dict) or not isinstance(state.get("id"), str) or not state["id"]:
        raise ValidationError("OCI state on stdin has no container id", option="stdin")
    notes = state.get("annotations") or {}
    if not isinstance(notes, dict):
        raise ValidationError("OCI state annotations are not an object", option="stdin")
    state["annotations"] = notes
    return state


def options_to_annotation(opts: NetworkOptions) -> str:
    """``NetworkOptions`` as the JSON of ``NetworkOptions.parse`` keyword arguments."""
    return json.dumps(
        {
            "networks": list(opts.networks),
            "publish": [p.raw for p in opts.ports],
            "add_host": [str(h) for h in opts.extra_hosts],
            "hostname": opts.hostname,
            "domainname": opts.domainname,
            "uts": opts.uts,
            "ip": opts.ip,
            "ip6": opts.ip6,
            "mac_address": opts.mac_address,
            "dns": list(opts.dns_servers),
            "dns_search": list(opts.dns_search),
            "dns_options": list(opts.dns_options),
        },
        separators=(",", ":"),
    )


def options_from_annotations(notes: Mapping[str, str]) -> NetworkOptions:
    """The sandbox's options: ctrnet's annotation, else nerdctl's (networks, ports, hostname,
    extra hosts, ip, ip6, mac)."""
    from ctrnet.manager.options import NetworkOptions

    raw = notes.get(ANN_OPTIONS)
    if raw:
        try:
            kwargs = json.loads(raw)
            return NetworkOptions.parse(**kwargs)
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                f"annotation {ANN_OPTIONS} is not valid: {exc}", option=ANN_OPTIONS, value=raw
            ) from None

    def listed(key: str) -> list[Any]:
        try:
            value = json.loads(notes.get(key) or "null")
        except ValueError:
            raise ValidationError(
                f"annotation {key} is not JSON", option=key, value=notes.get(key)
            ) from None
        return value if isinstance(value, list) else []

    publish = []
    for port in listed("nerdctl/ports"):
        host_ip = port.get("HostIP") or "0.0.0.0"
        publish.append(
            f"{host_ip}:{port['HostPort']}:{port['ContainerPort']}/{port.get('Protocol') or 'tcp'}"
        )
    return NetworkOptions.parse(
        networks=listed("nerdctl/networks"),
        publish=publish,
        add_host=listed("nerdctl/extraHosts"),
        hostname=notes.get("nerdctl/hostname"),
        ip=notes.get("nerdctl/ip"),
        ip6=notes.get("nerdctl/ip6"),
        mac_address=notes.get("nerdctl/mac-address"),
    )


def _staged(settings: Settings, sandbox_id: str) -> Path:
    return Path(settings.data_root, "oci-hooks", sandbox_id)


def _settings_env(settings: Settings) -> list[str]:
    env = {
        "NETCONFPATH": settings.conf_dir,
        "CNI_PATH": os.pathsep.join(settings.cni_path),
        "CNI_CACHEDIR": settings.cache_dir,
        "CTRNET_DATA_ROOT": settings.data_root,
        "CTRNET_NETNS_DIR": settings.netns_dir,
        "CTRNET_DEFAULT_SUBNET": settings.default_subnet,
        "CTRNET_DEFAULT_BRIDGE": settings.default_bridge,
        "CTRNET_SUBNET_POOL": settings.subnet_pool,
    }
    for key in _ENV_KEYS:
        if key in os.environ:
            env[key] = os.environ[key]
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return [f"{k}={v}" for k, v in env.items()]


def hook_fragment(
    settings: Settings, sandbox_id: str, opts: NetworkOptions, *, name: str | None = None
) -> dict[str, Any]:
    """The config.json fragment for the hook path; creates the (empty) staged files."""
    from ctrnet.manager.records import validate_sandbox_id

    validate_sandbox_id(sandbox_id)
    staged = _staged(settings, sandbox_id)
    staged.mkdir(parents=True, exist_ok=True, mode=0o755)
    mounts = []
    for file, target in FILES:
        (staged / file).touch(mode=0o644)
        mounts.append(
            {
                "destination": target,
                "type": "bind",
                "source": str(staged / file),
                "options": ["bind", "rprivate"],
            }
        )
    env = _settings_env(settings)

    def hook(event: str) -> dict[str, Any]:
        args = [sys.executable, "-m", "ctrnet", "oci-hook", event]
        return {"path": sys.executable, "args": args, "env": env, "timeout": 120}

    notes = {ANN_SANDBOX: sandbox_id, ANN_OPTIONS: options_to_annotation(opts)}
    if name:
        notes[ANN_NAME] = name
    return {
        "hooks": {"createRuntime": [hook("createRuntime")], "poststop": [hook("poststop")]},
        "annotations": notes,
        "mounts": mounts,
    }


class _PinningBackend:
    """A namespace backend whose ``create`` pins an existing namespace (the container's) instead
    of making a new one; everything else is the platform's backend."""

    def __init__(self, real: NamespaceBackend, netns_dir: str, source: str) -> None:
        self.real = real
        self.netns_dir = netns_dir
        self.source = source

    def create(self, name: str) -> str:
        path = os.path.join(os.path.abspath(self.netns_dir), name)
        os.makedirs(self.netns_dir, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0)
        except FileExistsError:
            raise SystemError_(f"network namespace {path} already exists") from None
        os.close(fd)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
        if libc.mount(os.fsencode(self.source), os.fsencode(path), None, MS_BIND, None) != 0:
            err = ctypes.get_errno()
            os.unlink(path)
            if err == 1:
                raise PermissionDenied(f"pin network namespace {self.source}")
            raise SystemError_(f"pin network namespace {self.source} at {path}: {os.strerror(err)}")
        return path

    def remove(self, path: str) -> None:
        self.real.remove(path)

    def exists(self, path: str) -> bool:
        return self.real.exists(path)

    def set_loopback_up(self, path: str) -> None:
        self.real.set_loopback_up(path)


def _sandbox_id(state: Mapping[str, Any]) -> str:
    notes = state["annotations"]
    return str(notes.get(ANN_SANDBOX) or state["id"])


def _check_own_namespace(pid: int, container_id: str) -> None:
    """Refuse a container in the hook's own (the host's) network namespace: attaching networks
    there would put the sandbox's interfaces and routes on the host."""
    try:
        theirs = os.stat(f"/proc/{pid}/ns/net")
    except OSError as exc:
        raise ValidationError(
            f"cannot read the network namespace of container pid {pid}: {exc.strerror}",
            option="stdin",
        ) from None
    ours = os.stat("/proc/self/ns/net")
    if (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino):
        raise ValidationError(
            f"container {container_id} shares the host's network namespace; give it its own "
            '({"type": "network"} in linux.namespaces of config.json; `ctrnet oci-hook --merge` '
            "adds it)",
            option="config.json",
        )


def create_runtime(settings: Settings, state: Mapping[str, Any]) -> None:
    """Set the sandbox up in the container's namespace and fill the staged files."""
    from ctrnet.manager import NetworkManager
    from ctrnet.manager.records import RecordStore
    from ctrnet.platform import namespace_backend

    pid = int(state.get("pid") or 0)
    if pid <= 0:
        raise ValidationError("OCI state has no pid; createRuntime needs the container's pid")
    sid = _sandbox_id(state)
    opts = options_from_annotations(state["annotations"])
    _check_own_namespace(pid, str(state["id"]))
    backend = _PinningBackend(
        namespace_backend(settings), settings.netns_dir, f"/proc/{pid}/ns/net"
    )
    manager = NetworkManager(settings, backend=backend)
    sandbox = manager.setup(  # gc reclaims it if the container dies without a poststop
        sid,
        opts,
        name=state["annotations"].get(ANN_NAME) or None,
        workload_pid=pid,
        workload_kind="oci",
    )
    staged = _staged(settings, sid)
    if not staged.is_dir():
        return  # config.json was not made by --print-hooks: nothing mounted to fill
    store = RecordStore(settings.data_root)
    with store.lock_all():
        for file, _ in FILES:
            source = {
                "hosts": sandbox.hosts_path,
                "resolv.conf": sandbox.resolv_conf_path,
                "hostname": sandbox.hostname_path,
            }[file]
            if not source or not os.path.exists(source):
                continue
            target = staged / file
            with open(target, "r+b") as out:  # same inode: the container has it mounted
                out.write(Path(source).read_bytes())
                out.truncate()
            tmp = f"{source}.ocihook"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.link(target, tmp)
            os.replace(tmp, source)  # the sandbox's file is now the container's inode


def poststop(settings: Settings, state: Mapping[str, Any]) -> list[str]:
    """Tear the sandbox down (idempotent) and remove the staged files; the warnings.

    The container is gone, so its sandbox goes even while others joined its namespace
    (``--network container:<it>``): as with docker, they lose their network (one warning each)
    instead of the sandbox staying forever. A failed DEL still keeps the record for a retry.
    """
    from ctrnet.manager import NetworkManager

    sid = _sandbox_id(state)
    try:
        return NetworkManager(settings).cleanup(sid, orphan_dependents=True)
    finally:
        shutil.rmtree(_staged(settings, sid), ignore_errors=True)
