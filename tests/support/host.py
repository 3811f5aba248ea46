"""Read-only views of the host's network state, for leak assertions in tests and the bench, and
the subnet reservations they share."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import subprocess
from pathlib import Path

LEASE_ROOT = Path("/var/lib/cni/networks")
#: the range test and bench subnets come from; nothing on this host routes it
TEST_RANGE = ipaddress.IPv4Network("10.200.0.0/13")
#: one marker file per /24 held (its content: the holder's PID), so that concurrent test runs
#: and benchmark runs never pick the same subnet
RESERVE_DIR = Path("/tmp/ctrnet-test-subnets")


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def namespaces() -> list[str]:
    """Names under /run/netns."""
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def links() -> list[str]:
    """Link names in the host namespace."""
    data = json.loads(_run("ip", "-j", "link", "show") or "[]")
    return sorted(item["ifname"] for item in data)


def iptables_rules() -> list[str]:
    """Every rule of the nat and filter tables (both families), as ``iptables -S`` prints them."""
    out: list[str] = []
    for tool in ("iptables", "ip6tables"):
        for table in ("nat", "filter"):
            out += [
                f"{tool} {table} {line}"
                for line in _run(tool, "-w", "-t", table, "-S").splitlines()
            ]
    return out


def leases(network: str) -> list[str]:
    """host-local lease files held for ``network``."""
    d = LEASE_ROOT / network
    if not d.is_dir():
        return []
    return sorted(
        p.name
        for p in d.iterdir()
        if p.name != "lock" and not p.name.startswith("last_reserved_ip")
    )


def host_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Every prefix on a host route or address."""
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for fam in ("-4", "-6"):
        for route in json.loads(_run("ip", "-j", fam, "route", "show", "table", "all") or "[]"):
            dst = route.get("dst", "")
            if dst and dst != "default":
                with contextlib.suppress(ValueError):
                    nets.append(ipaddress.ip_network(dst, strict=False))
    return nets


def leftovers(prefix: str, networks: list[str] | None = None) -> list[str]:
    """Everything on the host that carries ``prefix``: what a test must not leave behind."""
    found = [f"netns {n}" for n in namespaces() if prefix in n]
    found += [f"link {n}" for n in links() if prefix in n]
    found += [f"rule {r}" for r in iptables_rules() if prefix in r]
    for net in networks or []:
        found += [f"lease {net}/{f}" for f in leases(net)]
    if LEASE_ROOT.is_dir():
        for d in LEASE_ROOT.iterdir():
            if prefix in d.name:
                found += [f"lease {d.name}/{f}" for f in leases(d.name)]
    return found


def reserve_subnet() -> tuple[ipaddress.IPv4Network, Path] | None:
    """A /24 from ``TEST_RANGE`` that no host route uses and no other run holds, with its marker
    (unlink it to release the subnet); None when every one is taken."""
    RESERVE_DIR.mkdir(exist_ok=True)
    used = host_networks()
    candidates = list(TEST_RANGE.subnets(new_prefix=24))
    random.shuffle(candidates)
    for net in candidates:
        if any(net.overlaps(u) for u in used if u.version == 4):
            continue
        marker = RESERVE_DIR / str(net.network_address)
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _stale(marker):
                marker.unlink(missing_ok=True)
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return net, marker
    return None


def _stale(marker: Path) -> bool:
    """A reservation whose holder is gone (or that cannot be read)."""
    try:
        pid = int(marker.read_text() or "0")
    except (OSError, ValueError):
        return True
    return not Path(f"/proc/{pid}").exists()
