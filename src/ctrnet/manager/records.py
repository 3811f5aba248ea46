"""Sandbox records on disk: IDs, the ``sandbox.json`` schema, the store and its locks.

A record lives at ``<data_root>/sandboxes/<id>/sandbox.json`` next to the sandbox's ``hosts``,
``resolv.conf`` and ``hostname`` files. It is written atomically, *before* the resources it
describes exist (state ``creating``), and holds everything cleanup needs to undo them without any
other input: the namespace, and per network the conflist bytes, interface, CNI args and capability
args used at ADD.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctrnet._errors import InvalidConfig, ValidationError
from ctrnet._fs import BackgroundSync, atomic_write, file_lock, open_lock_file

__all__ = [
    "RECORD_VERSION",
    "STATES",
    "AttachmentRecord",
    "RecordStore",
    "SandboxLock",
    "SandboxRecord",
    "validate_sandbox_id",
    "validate_sandbox_name",
]

RECORD_VERSION = 1
#: life cycle of a record: written ``creating`` before any resource, ``ready`` after setup,
#: ``removing`` once cleanup has started
STATES = ("creating", "ready", "removing")
#: like containerd's identifiers: letters and digits, single ``.``, ``_`` or ``-`` between them
_ID = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*\Z")
ID_MAX = 76
#: docker's container name rule
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
NAME_MAX = 128


def validate_sandbox_id(sandbox_id: str) -> str:
    """``sandbox_id`` if it is safe as a file name, CNI container ID and namespace name."""
    if not isinstance(sandbox_id, str) or not _ID.match(sandbox_id) or len(sandbox_id) > ID_MAX:
        raise ValidationError(
            f"invalid sandbox ID {sandbox_id!r}: use 1-{ID_MAX} letters and digits, optionally "
            "separated by single '.', '_' or '-' (no '/', whitespace or shell characters)",
            option="sandbox_id",
            value=sandbox_id,
        )
    return sandbox_id


def validate_sandbox_name(name: str) -> str:
    """``name`` if it is a usable sandbox name (docker's container name rule, no ``..``)."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name or len(name) > NAME_MAX:
        raise ValidationError(
            f"invalid sandbox name {name!r}: use 1-{NAME_MAX} characters from [A-Za-z0-9_.-], "
            "starting with a letter or digit",
            option="--name",
            value=name,
        )
    return name


@dataclass(kw_only=True)
class AttachmentRecord:
    """One network of a sandbox, as planned before ADD and completed from its result."""

    network: str
    network_id: str = ""
    ifname: str
    #: the conflist bytes (UTF-8) used at ADD, so DEL works even if the file changes or goes
    conflist: str
    conflist_file: str | None = None
    is_default: bool = False
    #: CNI_ARGS pairs passed at ADD (``IgnoreUnknown=1`` is added by the CNI layer)
    args: list[tuple[str, str]] = field(default_factory=list)
    capability_args: dict[str, Any] = field(default_factory=dict)
    #: filled from the ADD result
    ips: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    mac: str = ""
    #: ADD was started (a rollback DELs only these; crash recovery DELs every planned network)
    added: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttachmentRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["args"] = [(str(k), str(v)) for k, v in values.get("args", [])]
        return cls(**values)


@dataclass(kw_only=True)
class SandboxRecord:
    """Everything known about one sandbox; the JSON of ``sandbox.json``."""

    id: str
    name: str = ""
    #: "none" | "host" | "container" | "ns" | "cni"
    mode: str
    state: str = "creating"
    platform: str = "linux"
    #: namespace path (Linux) or HCN GUID (Windows); "" means the host's namespace
    netns: str = ""
    #: whether cleanup removes the namespace (False for host, ns:<path> and container modes)
    netns_owned: bool = False
    hostname: str = ""
    domainname: str = ""
    #: "" (a private UTS namespace) or "host"
    uts: str = ""
    #: container mode: the ID of the sandbox whose namespace and files are shared
    target: str = ""
    networks: list[AttachmentRecord] = field(default_factory=list)
    #: published ports, CNI ``portMappings`` form (hostPort, containerPort, protocol, hostIP)
    ports: list[dict[str, Any]] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)
    #: paths of the files to mount over /etc/hosts, /etc/resolv.conf, /etc/hostname
    hosts_path: str = ""
    resolv_conf_path: str = ""
    hostname_path: str = ""
    #: the labels to persist (nerdctl-style annotations) of the per-mode implementation
    labels: dict[str, str] = field(default_factory=dict)
    #: the process the sandbox lives for (``ctrnet run``, an OCI container's init), as
    #: ``ctrnet.manager.liveness.Workload.to_dict()``; empty for ``ctrnet setup`` (the user's)
    workload: dict[str, Any] = field(default_factory=dict)
    #: state ``removing``: what the last teardown failed on (a retry starts from here)
    errors: list[str] = field(default_factory=list)
    created: str = ""
    version: int = RECORD_VERSION

    def to_json(self) -> str:
        # the JSON of ``asdict(self)``, without its deep copy (a third of a save's Python time):
        # the fields in declaration order, the attachments as dicts, and ``asdict`` for any
        # dataclass a free-form field may hold
        data = {name: getattr(self, name) for name in _field_names(SandboxRecord)}
        names = _field_names(AttachmentRecord)
        data["networks"] = [{name: getattr(n, name) for name in names} for n in self.networks]
        return json.dumps(data, indent=2, default=_dataclass_dict) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SandboxRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["networks"] = [AttachmentRecord.from_dict(n) for n in values.get("networks", [])]
        return cls(**values)

    def network_names(self) -> list[str]:
        return [n.network for n in self.networks]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _dataclass_dict(obj: object) -> Any:
    """``json.dumps``'s fallback: a dataclass instance as ``asdict`` gives it."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def now() -> str:
    """The current time as RFC 3339 (UTC), the ``created`` field."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordStore:
    """The sandbox records under ``<data_root>/sandboxes`` and the locks that guard them.

    Lock order: the GC lock (shared), a sandbox's own lock, then (briefly) the store-wide lock;
    never the other way round. CNI calls never run under the store-wide lock, so many setups run
    concurrently.
    """

    def __init__(self, data_root: str) -> None:
        self.root = Path(data_root) / "sandboxes"
        self.lock_dir = Path(data_root) / "locks"

    def dir_of(self, sandbox_id: str) -> Path:
        return self.root / validate_sandbox_id(sandbox_id)

    def path_of(self, sandbox_id: str) -> Path:
        return self.dir_of(sandbox_id) / "sandbox.json"

    @contextlib.contextmanager
    def lock(self, sandbox_id: str) -> Iterator[SandboxLock]:
        """The per-sandbox exclusive lock (setup and cleanup of one ID are serialized).

        Call ``forget()`` on the value once nothing of the sandbox is left: the lock file is then
        unlinked while still held, so lock files do not pile up for every ID ever used. Safe with
        concurrent lockers: whoever gets the flock checks that the file is still the one at the
        path (not unlinked or replaced meanwhile) and tries again if not.
        """
        path = self.lock_dir / f"sandbox-{validate_sandbox_id(sandbox_id)}.lock"
        fd = _lock_current_file(path)
        handle = SandboxLock()
        try:
            yield handle
        finally:
            try:
                if handle.forgotten:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def gc_lock(self, *, shared: bool = True) -> Iterator[None]:
        """The data-root GC lock: setup and cleanup hold it shared, ``ctrnet gc`` exclusively.

        Taken before any other lock, so no ADD or DEL runs while GC does (the CNI spec's rule).
        """
        with file_lock(self.lock_dir / "gc.lock", shared=shared):
            yield

    def known(self, sandbox_id: str) -> bool:
        """Whether this data root may hold something of ``sandbox_id``: its lock file is the
        mark, kept from the first setup until a teardown that removed everything."""
        return (self.lock_dir / f"sandbox-{validate_sandbox_id(sandbox_id)}.lock").exists()

    def is_locked(self, sandbox_id: str) -> bool:
        """Whether a live process holds the sandbox's lock now (a setup or cleanup under way)."""
        path = self.lock_dir / f"sandbox-{validate_sandbox_id(sandbox_id)}.lock"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    @contextlib.contextmanager
    def lock_all(self, *, shared: bool = False) -> Iterator[None]:
        """The store-wide lock, for operations that read or rewrite several sandboxes."""
        with file_lock(self.lock_dir / "sandboxes.lock", shared=shared):
            yield

    def save(self, record: SandboxRecord, *, durable: bool = True) -> None:
        """Write ``record`` atomically; ``durable`` (the default) also fsyncs it.

        Only a record that must outlive a power loss needs that: the one written before a
        resource that survives a reboot (host-local leases) is created. A ``ready`` record may
        skip it: after a reboot its namespace is gone, and a ``ready`` record without one and a
        ``creating`` record are reclaimed alike.
        """
        self._write(record, durable=durable)

    def save_syncing(self, record: SandboxRecord) -> BackgroundSync:
        """Write ``record`` atomically and start syncing it to disk in a thread.

        For the ``creating`` record: it must be on disk before anything that survives a reboot
        exists, not before the namespace (which a reboot ends) is made, so the caller makes the
        namespace meanwhile and waits for the sync just before the first CNI ADD.
        """
        made = self._write(record, durable=False)
        return BackgroundSync(self.path_of(record.id), new_dir=made)

    def _write(self, record: SandboxRecord, *, durable: bool) -> bool:
        """Write the record file; whether its directory was made for it."""
        if record.state not in STATES:
            raise ValueError(f"bad record state {record.state!r}")
        directory = self.dir_of(record.id)
        made = not directory.exists()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            atomic_write(directory / "sandbox.json", record.to_json(), mode=0o600, durable=durable)
        except OSError:
            if made:  # a full or read-only disk: leave no empty record behind
                with contextlib.suppress(OSError):
                    directory.rmdir()
            raise
        return made

    def load(self, sandbox_id: str) -> SandboxRecord | None:
        """The record of ``sandbox_id``, or None if there is none."""
        path = self.path_of(sandbox_id)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise InvalidConfig(
                str(path), f"unreadable sandbox record ({exc}); remove the directory by hand"
            ) from None
        if not isinstance(data, dict):
            raise InvalidConfig(str(path), "sandbox record is not a JSON object")
        try:
            return SandboxRecord.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise InvalidConfig(str(path), f"malformed sandbox record: {exc}") from None

    def exists(self, sandbox_id: str) -> bool:
        return self.dir_of(sandbox_id).exists()

    def ids(self) -> list[str]:
        """IDs with a record directory, sorted (directories with unusable names skipped)."""
        try:
            entries = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        return [e for e in entries if _ID.match(e) and len(e) <= ID_MAX]

    def all(self) -> list[SandboxRecord]:
        """Every readable record (unreadable ones are skipped; a crash can leave an empty dir)."""
        out: list[SandboxRecord] = []
        for sandbox_id in self.ids():
            with contextlib.suppress(InvalidConfig):
                record = self.load(sandbox_id)
                if record is not None:
                    out.append(record)
        return out

    def remove(self, sandbox_id: str) -> None:
        """Delete the record directory and the files in it; a missing one is fine."""
        with contextlib.suppress(FileNotFoundError):
            import shutil  # only a teardown needs it

            shutil.rmtree(self.dir_of(sandbox_id))

    def write_file(self, sandbox_id: str, name: str, text: str) -> str:
        """Write one of the sandbox's files atomically (new files only); returns its path.

        Not fsynced: the files (resolv.conf, hostname) serve a sandbox that a reboot ends.
        """
        path = self.dir_of(sandbox_id) / name
        atomic_write(path, text, mode=0o644, durable=False)
        return str(path)


class SandboxLock:
    """The held per-sandbox lock; ``forget()`` asks for its file to go when it is released."""

    def __init__(self) -> None:
        self.forgotten = False

    def forget(self) -> None:
        """Remove the lock file on release (the sandbox left nothing GC would need to find)."""
        self.forgotten = True


def _lock_current_file(path: Path) -> int:
    """An fd holding an exclusive ``flock`` on the file that is at ``path`` now.

    A holder unlinks the file only while holding it, so a file that is still at ``path`` after
    the flock is granted cannot be unlinked under us; one that is not (a waiter that opened it
    before the unlink) is dropped and the path opened again, creating a new file if needed.
    """
    while True:
        fd = open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
        except BaseException:
            os.close(fd)
            raise
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)


def find_by_name(records: Sequence[SandboxRecord], name: str) -> SandboxRecord | None:
    """The record whose name is ``name``."""
    return next((r for r in records if r.name and r.name == name), None)
