"""Atomic file writes and ``flock`` locks: how every record and config reaches the disk."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from ctrnet._errors import StorageError

__all__ = ["BackgroundSync", "atomic_write", "file_lock", "open_lock_file", "sync_file"]


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
    fd, tmp = _temporary(target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(target.parent)


def _temporary(directory: Path) -> tuple[int, str]:
    """A new file ``.tmp-<random>`` (mode 0600) in ``directory``, opened for writing.

    What ``tempfile.mkstemp`` does, without importing ``tempfile`` (and ``random`` and
    ``shutil`` with it: ~3 ms of every ``ctrnet`` command's start).
    """
    for _ in range(100):
        path = os.path.join(directory, f".tmp-{os.urandom(6).hex()}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        return fd, path
    raise FileExistsError(f"no free temporary file name in {directory}")


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def sync_file(path: str | os.PathLike[str], *, new_dir: bool = False) -> None:
    """fsync ``path`` and its directory: what ``atomic_write(durable=True)`` adds, done later.

    ``new_dir``: the directory itself was just made, so its parent's entry is synced as well.
    """
    target = Path(path)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(target.parent)
        if new_dir:
            _fsync_dir(target.parent.parent)
    except OSError as exc:
        raise StorageError(f"cannot sync {target} to disk", exc) from exc


class BackgroundSync:
    """:func:`sync_file` of one file in a thread of its own, while the caller goes on.

    :meth:`wait` joins it and raises its error, if any (every time it is called).
    """

    def __init__(self, path: str | os.PathLike[str], *, new_dir: bool = False) -> None:
        self.path = Path(path)
        self.new_dir = new_dir
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ctrnet-fsync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            sync_file(self.path, new_dir=self.new_dir)
        except BaseException as exc:  # handed to the waiter
            self._error = exc

    def wait(self) -> None:
        """Block until the file is on disk; raises ``StorageError`` if it could not be synced."""
        self._thread.join()
        if self._error is not None:
            raise self._error


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
