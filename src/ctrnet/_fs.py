"""Atomic file writes and ``flock`` locks: how every record and config reaches the disk."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ctrnet._errors import StorageError

__all__ = ["atomic_write", "file_lock", "open_lock_file"]


def atomic_write(
    path: str | os.PathLike[str], data: bytes | str, mode: int = 0o644, *, durable: bool = True
) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory, fsync, rename.

    A reader sees the old content or the new, never a torn file; a crash leaves at most a
    ``.tmp-*`` file that is ignored by every loader. ``durable=False`` skips the two fsyncs (of
    the file and of its directory): for files a power loss makes moot anyway, such as those of a
    sandbox whose namespace lives on tmpfs; the write is still atomic for every reader.
    """
    try:
        _atomic_write(Path(path), data, mode, durable)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot write {path}", exc) from exc


def _atomic_write(target: Path, data: bytes | str, mode: int, durable: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if not durable:
        return
    dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def open_lock_file(path: str | os.PathLike[str]) -> int:
    """An fd on the lock file ``path``, created (mode 0600, parents too) if missing; not locked."""
    lock_path = Path(path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot open lock file {lock_path}", exc) from exc


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], *, shared: bool = False) -> Iterator[None]:
    """Hold an ``flock`` on ``path`` (created if missing) for the duration of the block."""
    fd = open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
