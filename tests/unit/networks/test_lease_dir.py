"""Removing a network tidies host-local's lease directory without racing its allocations.

``/var/lib/cni/networks/<name>`` is shared by every network of that name in any conf dir (every
default network is "bridge"), so another process may be allocating there while one is removed.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from ctrnet.networks._host import remove_lease_dir


def _dir(root: Path, *files: tuple[str, str]) -> Path:
    path = root / "bridge"
    path.mkdir()
    (path / "lock").write_text("")
    for name, text in files:
        (path / name).write_text(text)
    return path


def test_the_directory_and_its_lock_file_stay(tmp_path: Path) -> None:
    """A waiter holding the old lock file's fd must still hold *the* lock: same inode kept."""
    path = _dir(tmp_path, ("last_reserved_ip.0", "10.4.0.9"))
    inode = os.stat(path / "lock").st_ino
    assert remove_lease_dir("bridge", str(tmp_path))
    assert sorted(os.listdir(path)) == ["lock"]
    assert os.stat(path / "lock").st_ino == inode


def test_a_held_lease_keeps_everything(tmp_path: Path) -> None:
    path = _dir(tmp_path, ("last_reserved_ip.0", "10.4.0.9"), ("10.4.0.9", "c1\r\neth0"))
    assert not remove_lease_dir("bridge", str(tmp_path))
    assert sorted(os.listdir(path)) == ["10.4.0.9", "last_reserved_ip.0", "lock"]


def test_it_waits_for_host_locals_lock_and_rechecks(tmp_path: Path) -> None:
    """While an allocation holds ``<dir>/lock`` nothing is removed; the lease it writes before
    unlocking is seen by the re-check."""
    path = _dir(tmp_path, ("last_reserved_ip.0", "10.4.0.8"))
    fd = os.open(path / "lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # an allocation under way, as host-local locks
    outcome: list[bool] = []
    worker = threading.Thread(
        target=lambda: outcome.append(remove_lease_dir("bridge", str(tmp_path)))
    )
    worker.start()
    try:
        worker.join(0.5)
        assert worker.is_alive()  # blocked on the lock, nothing touched yet
        assert (path / "last_reserved_ip.0").exists()
        (path / "10.4.0.9").write_text("c2\r\neth0")  # the allocation's lease
        (path / "last_reserved_ip.0").write_text("10.4.0.9")
    finally:
        os.close(fd)
        worker.join(30)
    assert outcome == [False]
    assert sorted(os.listdir(path)) == ["10.4.0.9", "last_reserved_ip.0", "lock"]


def test_a_missing_directory_is_not_created(tmp_path: Path) -> None:
    assert not remove_lease_dir("bridge", str(tmp_path))
    assert os.listdir(tmp_path) == []
