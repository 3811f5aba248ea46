"""GC's rules without a host: what counts as ours, what is stale, what stays live.

The host is a fake :class:`HostView`; each test names the fact that flips the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ctrnet.manager.gcpolicy import judge, orphan_namespaces, ours_by_name, partition
from ctrnet.manager.liveness import Workload
from ctrnet.manager.records import SandboxRecord

NS = "/run/netns"
RUN = Workload(pid=4242, start=99, boot_id="b", pidns="pid:[1]", kind="ctrnet-run")


@dataclass
class FakeHost:
    locked: set[str] = field(default_factory=set)
    known_ids: set[str] = field(default_factory=set)
    namespaces: set[str] = field(default_factory=set)
    alive: set[int] = field(default_factory=set)
    occupied: set[str] = field(default_factory=set)

    def is_locked(self, sandbox_id: str) -> bool:
        return sandbox_id in self.locked

    def known(self, sandbox_id: str) -> bool:
        return sandbox_id in self.known_ids

    def netns_exists(self, path: str) -> bool:
        return path in self.namespaces

    def workload_alive(self, workload: Workload) -> bool:
        return workload.pid in self.alive

    def netns_in_use(self, path: str) -> bool:
        return path in self.occupied


def rec(
    sid: str,
    *,
    state: str = "ready",
    mode: str = "cni",
    target: str = "",
    workload: Workload | None = None,
    errors: list[str] | None = None,
) -> SandboxRecord:
    netns = "" if mode == "host" else f"{NS}/ctrnet-{target or sid}"
    return SandboxRecord(
        id=sid,
        mode=mode,
        state=state,
        netns=netns,
        netns_owned=mode == "cni",
        target=target,
        workload=workload.to_dict() if workload else {},
        errors=errors or [],
    )


def host_with(*records: SandboxRecord) -> FakeHost:
    """Every namespace present and every workload alive: a healthy host."""
    return FakeHost(
        namespaces={r.netns for r in records if r.netns},
        alive={RUN.pid},
        known_ids={r.id for r in records},
    )


def verdict(record: SandboxRecord, host: FakeHost, *others: SandboxRecord) -> tuple[bool, str]:
    v = judge(record, {r.id: r for r in (record, *others)}, host)
    return v.stale, v.reason


def test_ready_sandbox_with_its_namespace_is_live() -> None:
    r = rec("a")
    assert verdict(r, host_with(r)) == (False, "")


@pytest.mark.parametrize(
    ("state", "why"),
    [("creating", "setup never finished"), ("removing", "teardown never finished")],
)
def test_unfinished_setup_or_teardown_is_stale_unless_someone_holds_the_lock(
    state: str, why: str
) -> None:
    r = rec("a", state=state)
    host = host_with(r)
    assert verdict(r, host) == (True, why)
    host.locked.add("a")
    assert verdict(r, host) == (False, "")


def test_failed_teardown_is_stale_and_names_the_error() -> None:
    r = rec("a", state="removing", errors=["plugin bridge failed (DEL): boom"])
    stale, why = verdict(r, host_with(r))
    assert stale and "boom" in why


def test_vanished_namespace_makes_a_ready_sandbox_stale() -> None:
    r = rec("a")
    host = host_with(r)
    host.namespaces.clear()
    assert verdict(r, host) == (True, f"its namespace {NS}/ctrnet-a is gone")


def test_host_mode_has_no_namespace_to_lose() -> None:
    r = rec("a", mode="host")
    assert verdict(r, FakeHost()) == (False, "")


def test_setup_sandbox_without_workload_record_is_never_reclaimed_for_its_workload() -> None:
    r = rec("a")
    host = host_with(r)
    host.alive.clear()  # nothing runs at all: still the user's until teardown
    assert verdict(r, host) == (False, "")


def test_dead_workload_makes_the_sandbox_stale() -> None:
    r = rec("a", workload=RUN)
    host = host_with(r)
    assert verdict(r, host) == (False, "")
    host.alive.clear()
    assert verdict(r, host) == (True, "its workload (ctrnet-run pid 4242) is gone")


def test_dead_workload_with_processes_left_in_its_namespace_stays_with_a_note() -> None:
    r = rec("a", workload=RUN)
    host = host_with(r)
    host.alive.clear()
    host.occupied.add(r.netns)
    stale, note = verdict(r, host)
    assert not stale
    assert "processes still run" in note and "ctrnet teardown a" in note


def test_dead_workload_of_a_host_mode_sandbox_is_stale_without_a_namespace_check() -> None:
    r = rec("a", mode="host", workload=RUN)
    host = FakeHost(occupied={""})
    assert verdict(r, host) == (True, "its workload (ctrnet-run pid 4242) is gone")


def test_unusable_workload_record_counts_as_none() -> None:
    r = rec("a")
    r.workload = {"pid": "x"}
    host = host_with(r)
    host.alive.clear()
    assert verdict(r, host) == (False, "")


def test_container_mode_follows_its_target() -> None:
    target, dep = rec("t"), rec("d", mode="container", target="t")
    host = host_with(target, dep)
    assert verdict(dep, host, target) == (False, "")
    assert verdict(dep, host) == (True, "its target sandbox t is gone")


def test_partition_reclaims_container_chains_with_a_stale_owner() -> None:
    owner = rec("t", state="creating")
    d1 = rec("d1", mode="container", target="t")
    d2 = rec("d2", mode="container", target="d1")
    other = rec("x")
    live, stale, notes = partition([owner, d1, d2, other], host_with(owner, d1, d2, other))
    assert [r.id for r in live] == ["x"]
    assert {r.id: why for r, why in stale} == {
        "t": "setup never finished",
        "d1": "its target sandbox t is stale",
        "d2": "its target sandbox d1 is stale",
    }
    assert notes == []


def test_partition_leaves_a_dependent_whose_lock_is_held() -> None:
    owner, dep = rec("t", state="creating"), rec("d", mode="container", target="t")
    host = host_with(owner, dep)
    host.locked.add("d")
    live, stale, _ = partition([owner, dep], host)
    assert [r.id for r in live] == ["d"] and [r.id for r, _ in stale] == ["t"]


def test_partition_collects_notes_of_live_records() -> None:
    r = rec("a", workload=RUN)
    host = host_with(r)
    host.alive.clear()
    host.occupied.add(r.netns)
    live, stale, notes = partition([r], host)
    assert [x.id for x in live] == ["a"] and stale == [] and len(notes) == 1


PLANNED = f"{NS}/ctrnet-c1"


@pytest.mark.parametrize(
    ("container_id", "netns", "records", "known", "planned", "ours"),
    [
        ("c1", PLANNED, set(), {"c1"}, PLANNED, True),
        ("c1", PLANNED, {"c1"}, {"c1"}, PLANNED, False),  # a record covers it
        ("c1", PLANNED, set(), set(), PLANNED, False),  # another data root's ID
        ("c1", "/run/netns/other", set(), {"c1"}, PLANNED, False),  # another tool's namespace
        ("c1", "", set(), {"c1"}, PLANNED, False),  # no namespace at all
        ("c1", PLANNED, set(), {"c1"}, "", False),  # Windows: no name to compare with
        ("../c1", PLANNED, set(), {"../c1"}, PLANNED, False),  # not a sandbox ID
        ("c1", "/run/netns/x/../ctrnet-c1", set(), {"c1"}, PLANNED, True),  # same path
    ],
)
def test_cache_entry_is_ours_only_with_our_mark_and_our_namespace_name(
    container_id: str, netns: str, records: set[str], known: set[str], planned: str, ours: bool
) -> None:
    host = FakeHost(known_ids=known)
    assert ours_by_name(container_id, netns, records, host, planned) is ours


def test_orphan_namespaces_are_only_ours_and_unowned() -> None:
    names = ["ctrnet-a", "ctrnet-b", "ctrnet-c", "other", "ctrnet-bad..id", "cni-1234"]
    host = FakeHost(known_ids={"a", "b", "bad..id"})
    owned = {f"{NS}/ctrnet-b"}
    assert orphan_namespaces(names, NS, owned, host) == ["ctrnet-a"]
