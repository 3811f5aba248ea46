"""What ``ctrnet gc`` counts as ours, stale or live: the rules alone, over a view of the host.

Nothing here touches the host; :class:`HostView` answers the few questions the rules ask (is a
lock held, has this data root handled an ID, does a namespace exist, is a workload alive, do
processes still live in a namespace), so the rules are tested with a fake view and no root.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ctrnet._errors import CtrnetError
from ctrnet.manager.liveness import Workload
from ctrnet.manager.records import SandboxRecord, validate_sandbox_id

__all__ = [
    "NETNS_PREFIX",
    "HostView",
    "Verdict",
    "judge",
    "orphan_namespaces",
    "ours_by_name",
    "partition",
]

NETNS_PREFIX = "ctrnet-"


class HostView(Protocol):
    """The facts about the host the GC rules need."""

    def is_locked(self, sandbox_id: str) -> bool:
        """A live process holds the sandbox's lock (its setup or teardown is under way)."""

    def known(self, sandbox_id: str) -> bool:
        """This data root has handled the ID (its sandbox lock file exists)."""

    def netns_exists(self, path: str) -> bool: ...

    def workload_alive(self, workload: Workload) -> bool: ...

    def netns_in_use(self, path: str) -> bool:
        """Some process still lives in the network namespace at ``path``."""


@dataclass(frozen=True)
class Verdict:
    """Whether a record is stale, and why; a live record may carry a note for the report."""

    stale: bool
    reason: str = ""


LIVE = Verdict(False)


def judge(record: SandboxRecord, records: Mapping[str, SandboxRecord], view: HostView) -> Verdict:
    """Is ``record`` stale? ``records`` are all records of the data root, by ID.

    Stale: setup or teardown never finished (``creating``/``removing``, nobody holds its lock);
    its namespace is gone (a reboot); its container-mode target is gone; or the workload recorded
    for it (``ctrnet run``, an OCI hook) is dead and no process is left in its namespace. A
    sandbox without a workload record (``ctrnet setup``) belongs to the user until teardown.
    """
    if view.is_locked(record.id):
        return LIVE  # a setup or cleanup is at work: not ours to judge
    if record.state == "creating":
        return Verdict(True, "setup never finished")
    if record.state == "removing":
        if record.errors:
            return Verdict(True, f"teardown failed earlier ({record.errors[0]})")
        return Verdict(True, "teardown never finished")
    if record.mode == "container":
        if record.target not in records:
            return Verdict(True, f"its target sandbox {record.target} is gone")
    elif record.netns and record.mode != "host" and not view.netns_exists(record.netns):
        return Verdict(True, f"its namespace {record.netns} is gone")
    workload = Workload.from_dict(record.workload)
    if workload is None or view.workload_alive(workload):
        return LIVE
    what = f"its workload ({workload.kind or 'process'} pid {workload.pid}) is gone"
    if record.netns and record.mode != "host" and view.netns_in_use(record.netns):
        return Verdict(
            False,
            f"sandbox {record.id}: {what} but processes still run in its "
            f"namespace {record.netns}; left alone (ctrnet teardown {record.id})",
        )
    return Verdict(True, what)


def partition(
    records: Iterable[SandboxRecord], view: HostView
) -> tuple[list[SandboxRecord], list[tuple[SandboxRecord, str]], list[str]]:
    """(live, stale with reasons, notes): every record judged, and container-mode sandboxes
    whose target is stale reclaimed with it."""
    by_id = {r.id: r for r in records}
    stale: list[tuple[SandboxRecord, str]] = []
    notes: list[str] = []
    for record in by_id.values():
        verdict = judge(record, by_id, view)
        if verdict.stale:
            stale.append((record, verdict.reason))
        elif verdict.reason:
            notes.append(verdict.reason)
    stale_ids = {r.id for r, _ in stale}
    changed = True
    while changed:  # chains of container-mode sandboxes go with the namespace's owner
        changed = False
        for record in by_id.values():
            if (
                record.id not in stale_ids
                and record.mode == "container"
                and record.target in stale_ids
                and not view.is_locked(record.id)
            ):
                stale.append((record, f"its target sandbox {record.target} is stale"))
                stale_ids.add(record.id)
                changed = True
    live = [r for r in by_id.values() if r.id not in stale_ids]
    return live, stale, notes


def ours_by_name(
    container_id: str,
    netns: str,
    record_ids: set[str],
    view: HostView,
    planned_netns: str,
) -> bool:
    """A CNI cache entry without a record is ours only if this data root handled the ID and its
    namespace is the one ctrnet names for it (``planned_netns``): the cache is shared by every
    data root and tool on the host."""
    if container_id in record_ids:
        return False
    try:
        validate_sandbox_id(container_id)
    except CtrnetError:
        return False
    if not netns or not planned_netns or not view.known(container_id):
        return False
    return os.path.abspath(netns) == planned_netns


def orphan_namespaces(
    names: Sequence[str], netns_dir: str, owned: set[str], view: HostView
) -> list[str]:
    """The names in ``netns_dir`` of namespaces ctrnet made for IDs this data root handled that
    no record (``owned`` paths) holds."""
    out: list[str] = []
    for name in sorted(names):
        if not name.startswith(NETNS_PREFIX):
            continue
        sandbox_id = name[len(NETNS_PREFIX) :]
        try:
            validate_sandbox_id(sandbox_id)
        except CtrnetError:
            continue
        if not view.known(sandbox_id):
            continue  # made for another data root: not ours to judge
        if os.path.join(netns_dir, name) not in owned:
            out.append(name)
    return out
