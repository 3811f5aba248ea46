"""Many setups at once: no global lock across CNI ADDs, and every hosts file ends up complete."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions, Sandbox

pytestmark = [pytest.mark.root, pytest.mark.slow]

COUNT = 50


def test_fifty_sandboxes_at_once(settings: Settings, prefix: str, network: str) -> None:
    opts = NetworkOptions.parse(networks=[network], dns=["127.0.0.1"], publish=["80"])

    def one(i: int) -> Sandbox:
        return NetworkManager(settings).setup(f"{prefix}-s{i}", opts, name=f"{prefix}-w{i}")

    with ThreadPoolExecutor(COUNT) as pool:
        sandboxes = list(pool.map(one, range(COUNT)))
    manager = NetworkManager(settings)
    try:
        ips = {s.ips[0] for s in sandboxes}
        assert len(ips) == COUNT
        host_ports = {s.ports[0].host_port for s in sandboxes}
        assert len(host_ports) == COUNT  # automatic host ports never collide
        for sandbox in (sandboxes[0], sandboxes[-1]):
            text = Path(sandbox.hosts_path).read_text()
            assert all(f"{prefix}-w{i}" in text for i in range(COUNT))
    finally:
        with ThreadPoolExecutor(COUNT) as pool:
            list(pool.map(lambda s: NetworkManager(settings).cleanup(s.id), sandboxes))
    assert manager.list() == []
