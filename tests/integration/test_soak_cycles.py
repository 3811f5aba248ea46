"""Soak: setup/teardown cycles one after another; open descriptors and memory stay flat and
nothing is left over. ``CTRNET_SOAK_CYCLES`` (default 50 in CI; 500 for the recorded run)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable

import pytest

from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from tests.support.reliability import managed_network, residue

pytestmark = [pytest.mark.root, pytest.mark.slow]

CYCLES = int(os.environ.get("CTRNET_SOAK_CYCLES", "50"))
WARMUP = 10
#: RSS may grow this much after warm-up (allocator noise), not with the number of cycles
RSS_SLACK = 8 * 1024 * 1024


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_setup_teardown_cycles_keep_fds_and_memory_flat(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network = f"{prefix}-net"
    opts = NetworkOptions(networks=(network,), ports=(), dns_servers=("127.0.0.1",))
    with managed_network(settings, network, subnet) as bridge:
        manager = NetworkManager(settings)
        fds = rss = 0
        for cycle in range(CYCLES + WARMUP):
            sid = f"{prefix}-s{cycle}"
            sandbox = manager.setup(sid, opts)
            assert ipaddress.ip_interface(sandbox.networks[0].ips[0]).ip in subnet
            manager.cleanup(sid)
            if cycle == WARMUP - 1:
                fds, rss = _fds(), _rss()
        assert _fds() == fds, "file descriptors leaked"
        assert _rss() - rss < RSS_SLACK, f"RSS grew by {(_rss() - rss) // 1024} KiB"
        assert manager.list() == []
        print(
            f"soak: {CYCLES} cycles, fds {fds} -> {_fds()}, RSS {rss // 1024} -> {_rss() // 1024} KiB"
        )
        assert residue(settings, prefix, network, subnet, bridge) == []
