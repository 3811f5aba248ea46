"""A private containerd for tests: its own root, state, socket and config; stopped by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CONFIG = """version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"
"""


@dataclass(frozen=True)
class Containerd:
    """A running private containerd: talk to it with ``ctr --address <socket>``."""

    pid: int
    socket: str
    directory: str

    def ctr(self, *args: str) -> list[str]:
        return ["ctr", "--address", self.socket, *args]


@contextlib.contextmanager
def private_containerd(prefix: str, timeout: float = 30) -> Iterator[Containerd]:
    """Start containerd under a fresh short directory (socket paths are limited to 108 bytes),
    wait until it answers, and stop it (SIGTERM, then SIGKILL, by PID) at the end."""
    if shutil.which("containerd") is None or shutil.which("ctr") is None:
        raise RuntimeError("containerd is not installed (apt-get install containerd)")
    directory = tempfile.mkdtemp(prefix=f"{prefix}-ctrd-", dir="/tmp")
    root, state = Path(directory, "root"), Path(directory, "state")
    socket = str(Path(directory, "c.sock"))
    config = Path(directory, "config.toml")
    config.write_text(CONFIG.format(root=root, state=state, socket=socket))
    log = open(Path(directory, "containerd.log"), "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    daemon = Containerd(proc.pid, socket, directory)
    try:
        deadline = time.monotonic() + timeout
        while True:
            probe = subprocess.run(daemon.ctr("version"), capture_output=True, check=False)
            if probe.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "containerd did not start: " + Path(directory, "containerd.log").read_text()
                )
            time.sleep(0.1)
        yield daemon
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        # containerd's state holds mounts only while tasks run; none do after ctr run --rm
        shutil.rmtree(directory, ignore_errors=True)
