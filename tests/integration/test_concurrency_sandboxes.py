"""Concurrency: many sandboxes set up and torn down at once on one network, while networks are
created and removed beside them: no errors, no duplicate addresses, nothing left over.

``CTRNET_CONCURRENCY`` (default 50) sandboxes per round, ``CTRNET_CONCURRENCY_ROUNDS`` (default 5)
rounds; figures are in docs/reliability.md.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from ctrnet.networks import NetworkCreateOptions, NetworkStore
from tests.support.reliability import managed_network, residue

pytestmark = [pytest.mark.root, pytest.mark.slow]

WIDTH = int(os.environ.get("CTRNET_CONCURRENCY", "50"))
ROUNDS = int(os.environ.get("CTRNET_CONCURRENCY_ROUNDS", "5"))


def test_many_sandboxes_at_once_with_network_churn(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet_factory: Callable[[], ipaddress.IPv4Network],
) -> None:
    subnet, churn_subnet = subnet_factory(), subnet_factory()
    network = f"{prefix}-net"
    opts = NetworkOptions(networks=(network,), dns_servers=("127.0.0.1",))
    errors: list[BaseException] = []
    stop = threading.Event()
    churned = [0]

    def churn() -> None:  # network create / rm beside the sandboxes, on their conf dir
        store = NetworkStore(settings)
        while not stop.is_set():
            try:
                store.create(
                    NetworkCreateOptions(name=f"{prefix}-churn", subnets=(str(churn_subnet),))
                )
                store.remove(f"{prefix}-churn")
                churned[0] += 1
            except CtrnetError as exc:
                errors.append(exc)
                return

    with managed_network(settings, network, subnet) as bridge:
        manager = NetworkManager(settings)
        churner = threading.Thread(target=churn)
        churner.start()
        try:
            for round_no in range(ROUNDS):
                ids = [f"{prefix}-r{round_no}-{i}" for i in range(WIDTH)]
                with ThreadPoolExecutor(max_workers=WIDTH) as pool:
                    sandboxes = list(pool.map(lambda i: manager.setup(i, opts), ids))
                addresses = [s.networks[0].ips[0] for s in sandboxes]
                assert len(set(addresses)) == WIDTH, f"duplicate addresses: {sorted(addresses)}"
                assert all(ipaddress.ip_interface(a).ip in subnet for a in addresses)
                with ThreadPoolExecutor(max_workers=WIDTH) as pool:
                    list(pool.map(manager.cleanup, ids))
                assert manager.list() == []
        finally:
            stop.set()
            churner.join()
        assert errors == []
        assert churned[0] > 0, "network create/rm never ran beside the sandboxes"
        assert residue(settings, prefix, network, subnet, bridge) == []
