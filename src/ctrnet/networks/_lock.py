"""The conf-dir lock, compatible with both nerdctl generations.

nerdctl 2.x takes ``<confdir>/.nerdctl.lock`` (shared to read, exclusive to write); 1.7 flocks the
directory itself around writes. Readers take the first; writers take the directory, then the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from ctrnet._errors import StorageError
from ctrnet._fs import file_lock

__all__ = ["LOCK_FILE", "store_lock"]

LOCK_FILE = ".nerdctl.lock"


@contextlib.contextmanager
def store_lock(conf_dir: str, *, shared: bool) -> Iterator[None]:
    try:
        os.makedirs(conf_dir, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot use the network config directory {conf_dir}", exc) from exc
    lock_file = os.path.join(conf_dir, LOCK_FILE)
    if shared:
        with file_lock(lock_file, shared=True):
            yield
        return
    try:
        dir_fd = os.open(conf_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise StorageError(f"cannot lock the network config directory {conf_dir}", exc) from exc
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        with file_lock(lock_file):
            yield
    finally:
        os.close(dir_fd)
