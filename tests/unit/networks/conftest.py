"""A store over the private conf dir whose view of the host is fixed by the test."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from ctrnet._settings import Settings
from ctrnet.networks import NetworkStore
from ctrnet.networks.firewall import PolicyProbe
from ctrnet.networks.subnets import UsedSubnet

HOST = [
    UsedSubnet(ipaddress.ip_network("192.0.2.0/24"), "host route 192.0.2.0/24 dev eth0"),
    UsedSubnet(ipaddress.ip_network("10.4.2.0/24"), "host route 10.4.2.0/24 dev vpn0"),
]
#: the links the stand-in host has (macvlan / ipvlan parents are checked against these)
HOST_LINKS = ("lo", "eth0", "ens9", "vpn0")


@pytest.fixture
def make_store(settings: Settings) -> Callable[..., NetworkStore]:
    def make(
        platform: str = "linux",
        host: list[UsedSubnet] | None = None,
        firewall: bool | None = True,
        **changes: object,
    ) -> NetworkStore:
        """``firewall``: what the firewall probe answers for any ingressPolicy."""
        view = HOST if host is None else host
        return NetworkStore(
            settings.with_(**changes),
            platform,
            host_subnets=lambda: list(view),
            probe_policy=lambda policy: PolicyProbe(policy, firewall, "probe says so"),
            link_exists=lambda name: name in HOST_LINKS,
        )

    return make


@pytest.fixture
def store(make_store: Callable[..., NetworkStore]) -> NetworkStore:
    return make_store()
