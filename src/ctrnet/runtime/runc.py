"""runc in the foreground: ``runc run`` with stdio passed through, then always ``runc delete``."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

from ctrnet._errors import NotFoundError, SystemError_, ValidationError
from ctrnet.runtime.supervise import blocked_signals, wait_forwarding

__all__ = ["Runc", "validate_container_id"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}\Z")


def validate_container_id(container_id: str) -> None:
    """runc's own rule for IDs, checked up front so the error names the bad ID."""
    if not _ID.match(container_id):
        raise ValidationError(
            f"invalid container ID {container_id!r}: use 1-128 letters, digits, '_', '.', '+' or "
            "'-', starting with a letter or digit",
            option="name",
            value=container_id,
        )


class Runc:
    """A runc binary and its state root (``None``: runc's default, ``/run/runc``)."""

    def __init__(self, binary: str = "runc", *, root: str | None = None) -> None:
        found = shutil.which(binary)
        if found is None:
            raise NotFoundError(f"runc binary {binary!r} not found in PATH; install runc")
        self.binary = found
        self.root = root

    def _argv(self, *args: str) -> list[str]:
        base = [self.binary]
        if self.root:
            base += ["--root", self.root]
        return [*base, *args]

    def run(self, bundle: str, container_id: str, *, grace: float = 10.0) -> int:
        """``runc run`` in the foreground; signals sent to us go to the container.

        If the container outlives a forwarded SIGTERM by ``grace`` seconds it is killed with
        ``runc kill ... KILL`` (a PID 1 without handlers ignores SIGTERM). Returns the
        container's exit code. The caller deletes the container afterwards (:meth:`delete`).
        """
        validate_container_id(container_id)
        argv = self._argv("run", "--bundle", bundle, container_id)
        with blocked_signals() as old_mask:
            pid = os.posix_spawn(
                self.binary,
                argv,
                dict(os.environ),
                setsigmask=old_mask,
                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
            )
            return wait_forwarding(pid, escalate=lambda: self.kill(container_id), grace=grace)

    def kill(self, container_id: str, sig: str = "KILL") -> None:
        """Send ``sig`` to every process of the container; a gone container is fine."""
        subprocess.run(
            self._argv("kill", "--all", container_id, sig),
            capture_output=True,
            check=False,
        )

    def delete(self, container_id: str) -> None:
        """``runc delete --force``; idempotent (a container that does not exist is fine)."""
        proc = subprocess.run(
            self._argv("delete", "--force", container_id),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 and "does not exist" not in proc.stderr:
            raise SystemError_(
                f"runc delete --force {container_id} failed: {proc.stderr.strip() or proc.returncode}"
            )

    def state(self, container_id: str) -> dict[str, Any] | None:
        """``runc state`` as a dict, or ``None`` if there is no such container."""
        proc = subprocess.run(
            self._argv("state", container_id), capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            return None
        data = json.loads(proc.stdout)
        return data if isinstance(data, dict) else None

    def list_ids(self) -> Sequence[str]:
        """IDs of the containers under this root."""
        proc = subprocess.run(
            self._argv("list", "--format", "json"), capture_output=True, text=True, check=False
        )
        if proc.returncode != 0 or not proc.stdout.strip():
            return []
        data = json.loads(proc.stdout) or []
        return [str(item["id"]) for item in data]
