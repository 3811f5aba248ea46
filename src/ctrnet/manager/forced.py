"""Forced teardown (``ctrnet teardown --force``, ``NetworkManager.cleanup(id, force=True)``).

A normal teardown whose DEL fails keeps the record in state ``removing`` so that a retry can
finish it. A forced one is the user's way out when the DEL will never succeed (docker's
``rm -f``): every DEL still runs (best effort, with what attribution finds removed as ``gc``
does), then what ctrnet owns — the namespace, the CNI cache entries of the ID, the files and the
record — goes regardless. What could not be undone (the DEL errors, and the leases and nat rules
still naming the ID afterwards) is returned as warnings for the caller to show.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from ctrnet._errors import CtrnetError, StorageError
from ctrnet.manager import residue

if TYPE_CHECKING:
    from ctrnet.manager.modes_impl.base import Context
    from ctrnet.manager.records import SandboxRecord

__all__ = ["known_residue", "remove_owned", "undo_networks"]


def undo_networks(ctx: Context, record: SandboxRecord) -> list[BaseException]:
    """DEL every network of ``record`` (best effort), then remove the leases and nat/firewall
    rules attributed to it; the DEL errors."""
    from ctrnet.manager.gc import scrubbing
    from ctrnet.manager.modes_impl import impl_for

    with scrubbing(ctx, record.id, record):
        return impl_for(record.mode, ctx).cleanup(record)


def remove_owned(
    ctx: Context, sandbox_id: str, record: SandboxRecord | None
) -> list[BaseException]:
    """Remove the sandbox's own namespace and its CNI cache entries whatever DEL said; the
    errors of what could not be removed (the record itself is the caller's)."""
    errors: list[BaseException] = []
    if record is not None and record.netns_owned and record.netns:
        try:
            ctx.backend.remove(record.netns)
        except CtrnetError as exc:
            errors.append(exc)
    for entry in ctx.cni.cached_attachments():
        if entry.container_id != sandbox_id or not entry.path:
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            errors.append(StorageError(f"removing CNI cache entry {entry.path}", exc))
    return errors


def known_residue(sandbox_id: str, record: SandboxRecord | None) -> list[str]:
    """What is still on the host naming ``sandbox_id``: host-local leases of its networks and
    nat rules or chains commented with (or hashed from) its network and ID."""
    found: list[str] = []
    networks: set[str] = set()
    for att in record.networks if record is not None else []:
        networks.add(att.network)
        try:
            doc = json.loads(att.conflist)
        except ValueError:
            continue
        plugins = doc.get("plugins") if isinstance(doc, dict) else None
        directory = residue.lease_dir(att.network, plugins if isinstance(plugins, list) else [])
        for lease in residue.leases_in(att.network, directory) if directory else []:
            if lease.container_id == sandbox_id:
                found.append(f"host-local lease {lease.path} ({lease.ip}, network {att.network})")
    if networks:
        try:
            table = residue.RuleTable()
        except CtrnetError as exc:
            return [*found, f"iptables rules could not be read: {exc}"]
        rules, chains = table.owned_by({(n, sandbox_id) for n in networks})
        found += [f"rule `{rule.describe()}`" for rule in rules]
        found += [f"chain {tool} -t {table_name} {chain}" for tool, table_name, chain in chains]
    return found
