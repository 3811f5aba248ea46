"""Workload identities: a PID is the same process only with the same start time, boot and PID
namespace; doubt counts as alive. Uses this test's own children and a fake /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ctrnet.manager.liveness import (
    Workload,
    is_alive,
    namespace_id,
    namespaces_in_use,
    workload_of,
)


def test_a_running_child_is_alive_and_dead_once_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        w = workload_of(child.pid, "ctrnet-run")
        assert w.pid == child.pid and w.kind == "ctrnet-run" and w.start > 0
        assert is_alive(w)
        assert Workload.from_dict(w.to_dict()) == w
    finally:
        child.kill()
        child.wait()
    assert not is_alive(w)


def test_a_reused_pid_is_not_the_same_process() -> None:
    me = workload_of(os.getpid())
    assert is_alive(me)
    assert not is_alive(
        Workload(pid=me.pid, start=me.start + 1, boot_id=me.boot_id, pidns=me.pidns)
    )


def test_a_record_from_another_boot_is_dead_and_from_another_pid_namespace_is_unknown() -> None:
    me = workload_of(os.getpid())
    assert not is_alive(Workload(pid=me.pid, start=me.start, boot_id="old", pidns=me.pidns))
    assert is_alive(Workload(pid=1, start=0, boot_id=me.boot_id, pidns="pid:[1]"))


def _fake_proc(root: Path, pid: int, comm: str, start: int, state: str = "S") -> None:
    (root / str(pid)).mkdir(parents=True)
    rest = " ".join([state] + ["0"] * 18 + [str(start)] + ["0"] * 30)
    (root / str(pid) / "stat").write_text(f"{pid} ({comm}) {rest}\n")
    (root / "sys" / "kernel" / "random").mkdir(parents=True, exist_ok=True)
    (root / "sys" / "kernel" / "random" / "boot_id").write_text("boot\n")


def test_start_time_is_read_after_a_command_name_with_spaces_and_parens(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 77, "a) (b c", 12345)
    w = workload_of(77, proc=str(tmp_path))
    assert (w.start, w.boot_id) == (12345, "boot")
    assert is_alive(w, proc=str(tmp_path))
    assert not is_alive(Workload(pid=78, start=12345, boot_id="boot"), proc=str(tmp_path))


def test_a_zombie_nobody_reaped_yet_is_dead(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 77, "ctrnet", 5, state="Z")
    assert not is_alive(Workload(pid=77, start=5, boot_id="boot"), proc=str(tmp_path))


def test_from_dict_refuses_what_is_not_a_workload() -> None:
    assert Workload.from_dict({}) is None
    assert Workload.from_dict({"pid": 0, "start": 1}) is None
    assert Workload.from_dict({"pid": "x", "start": 1}) is None


def test_namespaces_in_use_includes_our_own() -> None:
    mine = namespace_id("/proc/self/ns/net")
    assert mine is not None and mine in namespaces_in_use()
    assert namespace_id("/nonexistent") is None
