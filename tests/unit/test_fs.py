"""Atomic writes: readers never see a torn file; ``durable`` decides whether it is fsynced, and
``sync_file``/``BackgroundSync`` make a written file durable later."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ctrnet._errors import StorageError
from ctrnet._fs import BackgroundSync, atomic_write, sync_file


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_durable_write_fsyncs_file_and_directory(tmp_path: Path, fsyncs: list[int]) -> None:
    target = tmp_path / "sub" / "record.json"
    atomic_write(target, '{"a": 1}', mode=0o600)
    assert target.read_text() == '{"a": 1}'
    assert target.stat().st_mode & 0o777 == 0o600
    assert len(fsyncs) == 2


def test_non_durable_write_is_atomic_but_not_fsynced(tmp_path: Path, fsyncs: list[int]) -> None:
    target = tmp_path / "hosts"
    target.write_text("old")
    inode = target.stat().st_ino
    atomic_write(target, b"new", durable=False)
    assert target.read_text() == "new"
    assert target.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert fsyncs == []
    assert [p.name for p in tmp_path.iterdir()] == ["hosts"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "conf"
    target.write_text("old")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StorageError, match="cannot write"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["conf"]


def test_sync_file_fsyncs_the_file_its_directory_and_a_new_directory_s_parent(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    target = tmp_path / "sandboxes" / "abc" / "sandbox.json"
    atomic_write(target, "{}", durable=False)
    assert fsyncs == []
    sync_file(target)
    assert len(fsyncs) == 2
    sync_file(target, new_dir=True)
    assert len(fsyncs) == 5


def test_background_sync_runs_in_another_thread_and_wait_joins_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "record.json"
    target.write_text("{}")
    threads: list[int] = []
    real = os.fsync

    def recording(fd: int) -> None:
        threads.append(threading.get_ident())
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    pending = BackgroundSync(target)
    pending.wait()
    assert len(threads) == 2
    assert threading.get_ident() not in threads
    pending.wait()  # again: nothing more to do, no error
    assert len(threads) == 2


def test_background_sync_of_a_missing_file_raises_on_every_wait(tmp_path: Path) -> None:
    pending = BackgroundSync(tmp_path / "gone.json")
    for _ in range(2):
        with pytest.raises(StorageError, match=r"cannot sync .*gone\.json to disk"):
            pending.wait()
