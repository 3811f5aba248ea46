"""Private resources for one benchmark run (names, subnets, ports, dirs) and the leak checks.

Subnets come from 10.200.0.0/13 and are reserved by the test suite's own code
(``tests.support.host.reserve_subnet``: marker files in ``/tmp/ctrnet-test-subnets``), so a
benchmark and a concurrent test run never pick the same /24; the host views are the suite's too.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.host import iptables_rules, links, namespaces, reserve_subnet

__all__ = [
    "BenchError",
    "Leaks",
    "Workspace",
    "iptables_rules",
    "links",
    "links_on",
    "namespaces",
]

DEFAULT_LEASE_ROOT = Path("/var/lib/cni/networks")


class BenchError(RuntimeError):
    """A benchmark step failed or left something behind; the message says what."""


def links_on(bridge: str) -> list[str]:
    """Links enslaved to ``bridge`` (the host ends of sandbox veths)."""
    out = subprocess.run(
        ["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True, check=False
    ).stdout
    return sorted(item["ifname"] for item in json.loads(out or "[]"))


@dataclass
class Leaks:
    """What a check found; empty means clean."""

    items: list[str] = field(default_factory=list)

    def raise_if_any(self, what: str) -> None:
        if self.items:
            shown = "\n  ".join(self.items[:20])
            more = f"\n  ... and {len(self.items) - 20} more" if len(self.items) > 20 else ""
            raise BenchError(f"{what} left resources behind:\n  {shown}{more}")


class Workspace:
    """A benchmark run's private names, subnets, ports and directories; ``close`` releases them."""

    def __init__(self) -> None:
        #: 6 hex digits: container IDs start with them, names carry ``bn`` + them
        self.tag = secrets.token_hex(3)
        self.prefix = "bn" + self.tag
        self.root = Path(tempfile.mkdtemp(prefix=f"ctrnet-bench-{self.tag}-"))
        self._markers: list[Path] = []
        self._ports: set[int] = set()
        self._ids = 0

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for marker in self._markers:
            marker.unlink(missing_ok=True)
        self._markers.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def container_id(self) -> str:
        """A fresh 64-hex container ID that starts with the run's tag."""
        self._ids += 1
        return f"{self.tag}{self._ids:06x}" + secrets.token_hex(26)

    def subnet(self) -> ipaddress.IPv4Network:
        """A /24 from 10.200.0.0/13 that no host route uses and no other run holds."""
        reserved = reserve_subnet()
        if reserved is None:
            raise BenchError("no free /24 left in 10.200.0.0/13; wait for other runs to finish")
        net, marker = reserved
        self._markers.append(marker)
        return net

    def port(self) -> int:
        """A TCP port on 127.0.0.1 that nothing listens on and this run has not handed out."""
        for _ in range(200):
            port = random.randrange(20000, 40000)
            if port in self._ports:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self._ports.add(port)
            return port
        raise BenchError("no free TCP port found in 20000-39999")

    # --- leak checks ----------------------------------------------------------------------------

    def sandbox_leaks(
        self,
        ids: Iterable[str],
        *,
        bridge: str | None = None,
        lease_dirs: Iterable[Path] = (),
        cache_dirs: Iterable[Path] = (),
        rules: list[str] | None = None,
    ) -> Leaks:
        """What sandboxes ``ids`` left: their namespaces, veths on ``bridge``, nat/filter rules
        naming them, host-local leases and CNI cache files."""
        ids = list(ids)
        found = Leaks()
        found.items += [f"netns {n}" for n in namespaces() if self.prefix in n]
        if bridge is not None:
            found.items += [f"veth {n} on {bridge}" for n in links_on(bridge)]
        rules = iptables_rules() if rules is None else rules
        short = {cid: cid[:12] for cid in ids}
        for rule in rules:
            if any(cid in rule or f"-{short[cid]}" in rule for cid in ids):
                found.items.append(f"rule {rule}")
        for d in lease_dirs:
            found.items += [f"lease {d}/{name}" for name in _leases(d)]
        idset = set(ids)
        for d in cache_dirs:
            for path in _files(d):
                # per-sandbox flock files are left by design (unlinking a lock file races)
                if path.parent.name == "locks" and path.suffix == ".lock":
                    continue
                if any(cid in str(path.relative_to(d)) for cid in idset):
                    found.items.append(f"file {path}")
        return found

    def run_leaks(self, subnets: Iterable[ipaddress.IPv4Network]) -> Leaks:
        """Everything on the host that carries this run's prefix or one of its subnets."""
        found = Leaks()
        found.items += [f"netns {n}" for n in namespaces() if self.prefix in n]
        found.items += [f"link {n}" for n in links() if self.prefix in n]
        nets = [str(s) for s in subnets]
        for rule in iptables_rules():
            if self.prefix in rule or self.tag in rule or any(n in rule for n in nets):
                found.items.append(f"rule {rule}")
        if DEFAULT_LEASE_ROOT.is_dir():
            for d in DEFAULT_LEASE_ROOT.iterdir():
                if self.prefix in d.name:
                    found.items.append(f"lease directory {d}")
        return found


def _leases(d: Path) -> list[str]:
    if not d.is_dir():
        return []
    return sorted(
        p.name for p in d.iterdir() if p.name != "lock" and not p.name.startswith("last_reserved")
    )


def _files(d: Path) -> Iterator[Path]:
    if d.is_dir():
        for dirpath, _dirs, names in os.walk(d):
            for name in names:
                yield Path(dirpath, name)
