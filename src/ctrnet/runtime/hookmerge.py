"""``ctrnet oci-hook --merge BUNDLE``: put the hook fragment into a bundle's ``config.json``.

The user's config is kept as it is (``root.path``, process, other hooks, annotations, mounts) and
gets ctrnet's ``createRuntime``/``poststop`` hooks, annotations and the three bind mounts; a
mount of the same destination is replaced, and hooks an earlier ``--merge`` added are replaced
rather than repeated, so merging again (say, with other ports) is safe. The container must get
a network namespace of its own — the hook attaches that one — so a config without one gets one,
and a config that joins an existing namespace (``path`` set) is refused. ``--hostname`` sets the
config's ``hostname``; without it the config's own becomes the sandbox's, so the container's
hosts and hostname files agree with what it is called. The file is rewritten
atomically with its own permissions; a refused config changes nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctrnet._errors import ValidationError
from ctrnet._fs import atomic_write
from ctrnet.runtime.bundle import read_config_json

if TYPE_CHECKING:
    from ctrnet.manager import NetworkOptions

__all__ = [
    "check_bundle",
    "is_ctrnet_hook",
    "merge_fragment_into",
    "with_bundle_hostname",
    "write_merged",
]


def _config_path(bundle: str | os.PathLike[str]) -> Path:
    return Path(bundle, "config.json")


def check_bundle(bundle: str | os.PathLike[str]) -> dict[str, Any]:
    """The bundle's config as it is on disk, refused (naming the file) if it cannot take the
    hooks. Only reads."""
    path = _config_path(bundle)
    config = read_config_json(bundle, option="--merge", usage="--merge needs")
    if not isinstance(config, dict) or not isinstance(config.get("root"), dict):
        raise ValidationError(
            f"{path} has no root; it is not an OCI runtime config",
            option="--merge",
            value=str(bundle),
        )
    for key, kind in (("hooks", dict), ("annotations", dict), ("mounts", list), ("linux", dict)):
        if key in config and not isinstance(config[key], kind):
            raise ValidationError(
                f"{path}: {key} must be a JSON {'object' if kind is dict else 'array'}",
                option="--merge",
                value=str(bundle),
            )
    namespaces = config.get("linux", {}).get("namespaces", [])
    if not isinstance(namespaces, list):
        raise ValidationError(
            f"{path}: linux.namespaces must be a JSON array", option="--merge", value=str(bundle)
        )
    for ns in namespaces:
        if isinstance(ns, dict) and ns.get("type") == "network" and ns.get("path"):
            raise ValidationError(
                f"{path} joins the network namespace {ns['path']}; the hooks set up a new one: "
                "remove that namespace's path (or use `ctrnet run --bundle`)",
                option="--merge",
                value=str(bundle),
            )
    return config


def is_ctrnet_hook(hook: Any) -> bool:
    """A hook entry that runs ``ctrnet oci-hook`` (added by an earlier merge)."""
    if not isinstance(hook, dict):
        return False
    args = [str(a) for a in hook.get("args") or []]
    return "oci-hook" in args and ("ctrnet" in args or any(a.endswith("/ctrnet") for a in args))


def with_bundle_hostname(config: Mapping[str, Any], opts: NetworkOptions) -> NetworkOptions:
    """``opts``, with the bundle's own ``hostname`` as the sandbox's when ``--hostname`` is not
    given, so the container's hosts and hostname files name what it is called."""
    own = config.get("hostname")
    if opts.hostname or opts.uts == "host" or not isinstance(own, str) or not own:
        return opts
    try:
        return dataclasses.replace(opts, hostname=own)
    except ValidationError:
        return opts  # not a name the sandbox can take; the sandbox's default is used


def merge_fragment_into(
    config: Mapping[str, Any], fragment: Mapping[str, Any], *, hostname: str = ""
) -> dict[str, Any]:
    """A copy of ``config`` with the hook ``fragment`` (hooks, annotations, mounts) merged in,
    a new network namespace requested if there was none, and ``hostname`` (if given) set with a
    UTS namespace for it."""
    out: dict[str, Any] = copy.deepcopy(dict(config))
    hooks = out.setdefault("hooks", {})
    for event, entries in fragment.get("hooks", {}).items():
        kept = [h for h in hooks.get(event) or [] if not is_ctrnet_hook(h)]
        hooks[event] = [*kept, *copy.deepcopy(entries)]
    out.setdefault("annotations", {}).update(fragment.get("annotations", {}))
    ours = [copy.deepcopy(m) for m in fragment.get("mounts", [])]
    targets = {m["destination"] for m in ours}
    mounts = [
        m
        for m in out.get("mounts", [])
        if not isinstance(m, dict) or m.get("destination") not in targets
    ]
    out["mounts"] = [*mounts, *ours]
    namespaces = out.setdefault("linux", {}).setdefault("namespaces", [])
    for kind in ("network", "uts") if hostname else ("network",):
        if not any(isinstance(ns, dict) and ns.get("type") == kind for ns in namespaces):
            namespaces.append({"type": kind})
    if hostname:
        out["hostname"] = hostname
    return out


def write_merged(bundle: str | os.PathLike[str], config: Mapping[str, Any]) -> str:
    """Replace the bundle's ``config.json`` with ``config`` atomically, keeping its mode."""
    path = _config_path(bundle)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    atomic_write(path, json.dumps(config, indent=2) + "\n", mode=mode)
    return str(path)
