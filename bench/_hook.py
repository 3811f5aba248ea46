"""The OCI hook path as a runtime calls it: ``ctrnet oci-hook createRuntime`` then ``poststop``.

The network is a no-op (``--network none``: the container's namespace is pinned, ``lo`` brought
up, the container files written), so the figures are ctrnet's own start-up and bookkeeping. The
"container" is a ``sleep`` this module starts in a namespace of its own (``unshare -n``); every
createRuntime pins that namespace under a fresh sandbox ID, and poststop removes it again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from _coldstart import Command
from _host import BenchError, Workspace

__all__ = ["HookFixture"]

CTRNET = str(Path(sys.executable).parent / "ctrnet")


class HookFixture:
    """A namespace-holding process, private settings, and the two hook commands."""

    def __init__(self, ws: Workspace) -> None:
        unshare = shutil.which("unshare")
        if unshare is None:
            raise BenchError("unshare (util-linux) is needed for the OCI hook scenario")
        self.ws = ws
        self.data = ws.dir("hook", "data")
        self.proc = subprocess.Popen([unshare, "-n", "sleep", "3600"])
        self.pending: list[str] = []
        self.used: list[str] = []
        self.env = {
            "NETCONFPATH": str(ws.dir("hook", "net.d")),
            "CNI_PATH": "/usr/lib/cni",
            "CNI_CACHEDIR": str(ws.dir("hook", "cache")),
            "CTRNET_DATA_ROOT": str(self.data),
            "CTRNET_DEFAULT_BRIDGE": f"{ws.prefix}h",
        }

    def _state(self, sandbox_id: str) -> bytes:
        options = {"networks": ["none"], "dns": ["127.0.0.1"]}
        return json.dumps(
            {
                "ociVersion": "1.0.2",
                "id": sandbox_id,
                "status": "creating",
                "pid": self.proc.pid,
                "bundle": str(self.ws.dir("hook", "bundle")),
                "annotations": {
                    "ctrnet/sandbox-id": sandbox_id,
                    "ctrnet/network-options": json.dumps(options),
                },
            }
        ).encode()

    def _create_stdin(self) -> bytes:
        sandbox_id = self.ws.container_id()
        self.pending.append(sandbox_id)
        self.used.append(sandbox_id)
        return self._state(sandbox_id)

    def _poststop_stdin(self) -> bytes:
        if not self.pending:
            raise BenchError("poststop measured without a createRuntime before it")
        return self._state(self.pending.pop())

    def commands(self) -> list[Command]:
        argv = [CTRNET, "oci-hook"]
        return [
            Command(
                "hook-create",
                "oci-hook createRuntime (none)",
                [*argv, "createRuntime"],
                stdin=self._create_stdin,
                env=self.env,
            ),
            Command(
                "hook-poststop",
                "oci-hook poststop (none)",
                [*argv, "poststop"],
                stdin=self._poststop_stdin,
                env=self.env,
            ),
        ]

    def close(self) -> list[str]:
        """Stop the sleep (by its PID) and list what the hook runs left behind."""
        for sandbox_id in self.pending:  # a failed run: tear down what it made
            subprocess.run(
                [CTRNET, "oci-hook", "poststop"],
                input=self._state(sandbox_id),
                env={**os.environ, **self.env},
                capture_output=True,
                check=False,
            )
        self.pending.clear()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        left = [f"netns ctrnet-{s}" for s in self.used if os.path.exists(f"/run/netns/ctrnet-{s}")]
        records = self.data / "sandboxes"
        if records.is_dir():
            left += [f"record {p}" for p in records.iterdir()]
        return left
