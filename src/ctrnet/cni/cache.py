"""The result cache, in libcni's ``cniCacheV1`` format, written atomically.

``<cache_dir>/results/<network>-<container>-<ifname>`` holds the final ADD result plus what is
needed to undo it (config, netns, CNI_ARGS, capability args). Files libcni writes are read here,
including the older bare-result form, and files written here are what libcni writes, byte for
byte for the usual content (compact JSON, Go's field order, sorted map keys, ``<>&`` escaped).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctrnet._errors import StorageError
from ctrnet._fs import atomic_write
from ctrnet.cni.gojson import dumps as _go_json

__all__ = [
    "CACHE_KIND",
    "CachedAttachment",
    "cache_path",
    "encode_entry",
    "parse_entry",
    "read_entry",
    "remove_entry",
    "scan_entries",
    "write_entry",
]

CACHE_KIND = "cniCacheV1"


@dataclass(frozen=True)
class CachedAttachment:
    """One cache file: an attachment ADDed and not yet DELeted.

    ``result`` is the final ADD result as the plugin printed it (its own ``cniVersion``);
    ``config`` the conflist bytes it was added with (None for legacy files).
    """

    network: str
    container_id: str
    ifname: str
    netns: str
    args: tuple[tuple[str, str], ...]
    capability_args: Mapping[str, Any]
    result: Mapping[str, Any] | None
    path: str
    config: bytes | None = field(default=None, repr=False)
    legacy: bool = False


def cache_path(cache_dir: str, network: str, container_id: str, ifname: str) -> str:
    """Where libcni keeps the attachment's cache file."""
    return os.path.join(cache_dir, "results", f"{network}-{container_id}-{ifname}")


def encode_entry(
    *,
    network: str,
    container_id: str,
    ifname: str,
    config: bytes,
    netns: str,
    args: Sequence[tuple[str, str]],
    capability_args: Mapping[str, Any],
    result: Mapping[str, Any],
) -> bytes:
    """The cache file's bytes, fields in the order of libcni's ``cachedInfo`` struct."""
    parts = [
        f'"kind":{_go_json(CACHE_KIND)}',
        f'"containerId":{_go_json(container_id)}',
        f'"config":"{base64.b64encode(config).decode()}"',
        f'"ifName":{_go_json(ifname)}',
        f'"networkName":{_go_json(network)}',
    ]
    if netns:
        parts.append(f'"netns":{_go_json(netns)}')
    if args:
        parts.append(f'"cniArgs":{_go_json([list(p) for p in args])}')
    if capability_args:
        parts.append(f'"capabilityArgs":{_go_json(dict(capability_args))}')
    if result:
        parts.append(f'"result":{_go_json(dict(result))}')
    return ("{" + ",".join(parts) + "}").encode()


def write_entry(path: str, data: bytes) -> None:
    """Atomically replace ``path`` (directory 0700, file 0600, like libcni).

    Not fsynced, as libcni does not: an entry lost to a power loss only costs its DEL the
    ``prevResult`` (a missing or empty entry is DELeted without one), and the manager's records,
    which are synced before the ADD, hold everything else a DEL needs.
    """
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write(path, data, mode=0o600, durable=False)


def parse_entry(data: bytes, path: str) -> CachedAttachment | None:
    """Decode a cache file; None if it is empty, corrupt or not an attachment record."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict):
        return None
    if obj.get("kind") != CACHE_KIND:
        return _legacy(obj, path)
    network, container_id, ifname = (
        obj.get("networkName"),
        obj.get("containerId"),
        obj.get("ifName"),
    )
    if not all(isinstance(v, str) and v for v in (network, container_id, ifname)):
        return None
    assert isinstance(network, str) and isinstance(container_id, str) and isinstance(ifname, str)
    config: bytes | None = None
    if isinstance(obj.get("config"), str):
        with contextlib.suppress(binascii.Error, ValueError):
            config = base64.b64decode(obj["config"], validate=True)
    raw_args = obj.get("cniArgs") or []
    args: list[tuple[str, str]] = []
    if isinstance(raw_args, list):
        for pair in raw_args:
            if isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair):
                args.append((pair[0], pair[1]))
    caps = obj.get("capabilityArgs")
    result = obj.get("result")
    netns = obj.get("netns")
    return CachedAttachment(
        network=network,
        container_id=container_id,
        ifname=ifname,
        netns=netns if isinstance(netns, str) else "",
        args=tuple(args),
        capability_args=caps if isinstance(caps, dict) else {},
        result=result if isinstance(result, dict) else None,
        path=path,
        config=config,
    )


def _legacy(obj: dict[str, Any], path: str) -> CachedAttachment | None:
    """An old libcni file: the bare result; names come from the path when they can."""
    if not any(k in obj for k in ("ips", "ip4", "ip6", "interfaces", "cniVersion")):
        return None
    return CachedAttachment(
        network="",
        container_id="",
        ifname="",
        netns="",
        args=(),
        capability_args={},
        result=obj,
        path=path,
        legacy=True,
    )


def read_entry(path: str) -> tuple[CachedAttachment | None, bool]:
    """``(entry, exists)``: a file that exists but cannot be used gives ``(None, True)``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None, False
    except OSError:
        return None, True
    return parse_entry(data, path), True


def remove_entry(path: str) -> None:
    """Delete a cache file; already gone is fine, any other failure is a StorageError."""
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:
        raise StorageError(f"cannot remove the CNI result cache file {path}", exc) from exc


def scan_entries(cache_dir: str, network: str | None = None) -> list[CachedAttachment]:
    """Every readable ``cniCacheV1`` entry under ``cache_dir``, sorted by file name."""
    directory = os.path.join(cache_dir, "results")
    try:
        names = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for name in names:
        if name.startswith(".tmp-") or (network is not None and not name.startswith(network)):
            continue
        entry, _ = read_entry(os.path.join(directory, name))
        if entry is None or entry.legacy:
            continue
        if network is None or entry.network == network:
            out.append(entry)
    return out
