"""Per-sandbox lock files: removed when the sandbox goes, without breaking mutual exclusion."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ctrnet._errors import ConflictError, PluginError
from ctrnet.manager import NetworkOptions
from ctrnet.manager import records as records_module
from ctrnet.manager.records import RecordStore
from tests.unit.manager.test_core_windows import Env


@pytest.fixture
def env(tmp_path: Path, prefix: str) -> Env:
    return Env(tmp_path, prefix)


def sandbox_locks(env: Env) -> list[str]:
    locks = Path(env.settings.data_root, "locks")
    return sorted(p.name for p in locks.glob("sandbox-*.lock")) if locks.exists() else []


def test_lock_files_go_with_their_sandboxes_and_the_set_stays_bounded(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    for i in range(5):
        sid = f"{env.prefix}-c{i}"
        env.manager.setup(sid, NetworkOptions.parse(networks=[net]))
        assert sandbox_locks(env) == [f"sandbox-{sid}.lock"]  # the mark GC attributes by
        env.manager.cleanup(sid)
        assert sandbox_locks(env) == []
    env.manager.cleanup(f"{env.prefix}-never-set-up")
    assert sandbox_locks(env) == []
    left = sorted(p.name for p in Path(env.settings.data_root, "locks").iterdir())
    assert left == ["gc.lock", "sandboxes.lock"]


def test_a_failed_setup_that_rolled_back_leaves_no_lock_file(env: Env) -> None:
    bad = env.network(f"{env.prefix}-bad", on={"ADD": {"error": {"code": 11, "msg": "no luck"}}})
    with pytest.raises(PluginError):
        env.manager.setup(f"{env.prefix}-c1", NetworkOptions.parse(networks=[bad]))
    good = env.network(f"{env.prefix}-nat")
    env.manager.setup(f"{env.prefix}-c2", NetworkOptions.parse(networks=[good]), name="web")
    with pytest.raises(ConflictError, match="already used"):  # refused before any record
        env.manager.setup(f"{env.prefix}-c3", NetworkOptions.parse(networks=[good]), name="web")
    assert sandbox_locks(env) == [f"sandbox-{env.prefix}-c2.lock"]
    env.manager.cleanup(f"{env.prefix}-c2")


def test_a_teardown_with_errors_keeps_the_lock_file_as_the_gc_mark(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat", on={"DEL": {"error": {"code": 11, "msg": "stuck"}}})
    sid = f"{env.prefix}-c1"
    env.manager.setup(sid, NetworkOptions.parse(networks=[net]))
    with pytest.raises(PluginError, match="stuck"):
        env.manager.cleanup(sid)
    assert sandbox_locks(env) == [f"sandbox-{sid}.lock"]
    assert env.manager.ctx.store.known(sid)


def test_a_waiter_on_a_removed_lock_file_does_not_share_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A opens and holds; B opens the same file and waits; A forgets it (unlink) and releases;
    C locks the new file. B must not get in while C holds: it has to notice its file is gone."""
    store = RecordStore(str(tmp_path))
    sid = "race"
    b_opened, a_gone, c_release = threading.Event(), threading.Event(), threading.Event()
    holders: list[str] = []
    overlaps: list[list[str]] = []
    guard = threading.Lock()

    def flock(fd: int, op: int) -> Any:
        if threading.current_thread().name == "B" and not b_opened.is_set():
            b_opened.set()  # B has its fd on A's file and is about to wait for the lock
            a_gone.wait()
        return fcntl.flock(fd, op)

    monkeypatch.setattr(
        records_module, "fcntl", SimpleNamespace(flock=flock, LOCK_EX=fcntl.LOCK_EX)
    )

    def hold_b() -> None:
        with store.lock(sid), guard:
            holders.append("B")
            if len(holders) > 1:
                overlaps.append(list(holders))
            holders.remove("B")

    with store.lock(sid) as a:
        b = threading.Thread(target=hold_b, name="B")
        b.start()
        b_opened.wait()
        a.forget()

    def hold_c() -> None:
        with store.lock(sid):
            with guard:
                holders.append("C")
            a_gone.set()  # now B's flock on the unlinked file is granted at once
            c_release.wait(timeout=1)  # B must stay out all this time
            with guard:
                if len(holders) > 1:
                    overlaps.append(list(holders))
                holders.remove("C")

    c = threading.Thread(target=hold_c, name="C")
    c.start()
    c.join()
    b.join()
    assert overlaps == []
    assert (tmp_path / "locks" / f"sandbox-{sid}.lock").exists()  # B's (new) file
