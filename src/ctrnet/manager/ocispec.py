"""The OCI ``config.json`` fragment of a sandbox, and how to merge it into a spec (pure).

Linux: the network (and UTS) namespace, hostname, bind mounts over /etc/hosts, /etc/resolv.conf
and /etc/hostname, and the nerdctl annotations. Windows: ``windows.network.networkNamespace`` =
the HCN namespace GUID with ``allowUnqualifiedDNSQuery``, plus the ``nerdctl/network-namespace``
annotation that cleanup reads.

A fragment's ``linux.namespaces`` is authoritative for the ``network`` and ``uts`` types: the
merge replaces the spec's entries of those types with the fragment's, and removes them when the
fragment has none (host networking, ``--uts=host``). Other namespace types are left alone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ctrnet.manager.labels import NETWORK_NAMESPACE

__all__ = ["MOUNT_OPTIONS", "OWNED_NAMESPACES", "build_fragment", "merge_fragment"]

#: nerdctl's options for the helper mounts (read-write, private propagation)
MOUNT_OPTIONS = ("bind", "rprivate")
#: the namespace types a fragment decides
OWNED_NAMESPACES = ("network", "uts")


def build_fragment(
    *,
    platform: str,
    mode: str,
    netns: str = "",
    hostname: str = "",
    domainname: str = "",
    uts: str = "",
    hosts_path: str = "",
    resolv_conf_path: str = "",
    hostname_path: str = "",
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The fragment for one sandbox. ``mode`` is the mode kind; ``netns`` the namespace path
    (Linux; empty with ``none`` means a fresh namespace) or HCN GUID (Windows)."""
    notes = dict(annotations or {})
    if platform == "windows":
        network: dict[str, Any] = {"allowUnqualifiedDNSQuery": True}
        if netns:
            network["networkNamespace"] = netns
            notes[NETWORK_NAMESPACE] = netns
        return {"windows": {"network": network}, "annotations": notes}
    namespaces: list[dict[str, str]] = []
    if mode != "host":
        namespaces.append({"type": "network", "path": netns} if netns else {"type": "network"})
    if uts != "host":
        namespaces.append({"type": "uts"})
    fragment: dict[str, Any] = {"linux": {"namespaces": namespaces}}
    if uts != "host" and hostname:
        fragment["hostname"] = hostname
        if domainname:
            fragment["domainname"] = domainname
    mounts = [
        {"destination": dest, "type": "bind", "source": src, "options": list(MOUNT_OPTIONS)}
        for dest, src in (
            ("/etc/hosts", hosts_path),
            ("/etc/resolv.conf", resolv_conf_path),
            ("/etc/hostname", hostname_path),
        )
        if src
    ]
    if mounts:
        fragment["mounts"] = mounts
    if netns and mode != "host":
        notes.setdefault(NETWORK_NAMESPACE, netns)
    fragment["annotations"] = notes
    return fragment


def merge_fragment(
    spec: Mapping[str, Any], fragment: Mapping[str, Any], *, user_mounts_win: bool = False
) -> dict[str, Any]:
    """A copy of ``spec`` with ``fragment`` applied (``spec`` is not modified).

    Mounts at the fragment's destinations are replaced, or, with ``user_mounts_win``, the
    spec's own mounts there are kept and the fragment's skipped (nerdctl's host-mode rule).
    """
    out = copy.deepcopy(dict(spec))
    for key in ("hostname", "domainname"):
        if key in fragment:
            out[key] = fragment[key]
    linux = fragment.get("linux")
    if linux and "namespaces" in linux:
        target = out.setdefault("linux", {})
        target["namespaces"] = _merge_namespaces(
            target.get("namespaces") or [], linux["namespaces"]
        )
    if "mounts" in fragment:
        out["mounts"] = _merge_mounts(out.get("mounts") or [], fragment["mounts"], user_mounts_win)
    if fragment.get("annotations"):
        out.setdefault("annotations", {}).update(fragment["annotations"])
    windows = fragment.get("windows")
    if windows and "network" in windows:
        out.setdefault("windows", {}).setdefault("network", {}).update(
            copy.deepcopy(windows["network"])
        )
    return out


def _merge_namespaces(
    current: list[dict[str, Any]], wanted: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_type = {ns["type"]: copy.deepcopy(ns) for ns in wanted}
    merged: list[dict[str, Any]] = []
    for ns in current:
        kind = ns.get("type")
        if kind in OWNED_NAMESPACES:
            if kind in by_type:
                merged.append(by_type.pop(kind))
        else:
            merged.append(ns)
    merged.extend(ns for ns in (copy.deepcopy(w) for w in wanted) if ns["type"] in by_type)
    return merged


def _merge_mounts(
    current: list[dict[str, Any]], wanted: list[dict[str, Any]], user_mounts_win: bool
) -> list[dict[str, Any]]:
    destinations = {m["destination"] for m in wanted}
    if user_mounts_win:
        taken = {m.get("destination") for m in current}
        return current + [copy.deepcopy(m) for m in wanted if m["destination"] not in taken]
    kept = [m for m in current if m.get("destination") not in destinations]
    return kept + [copy.deepcopy(m) for m in wanted]
