"""Fixtures shared by the integration tests (they run as root, with the real plugins)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

import pytest

from ctrnet._settings import Settings
from tests.support.reliability import managed_network, residue


@pytest.fixture
def network(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> Iterator[str]:
    """A bridge network ``<prefix>-net`` made by the store; at the end every sandbox on it has
    been reclaimed, it is removed, and nothing of the test is left on the host."""
    name = f"{prefix}-net"
    with managed_network(settings, name, subnet):
        yield name
    assert residue(settings, prefix, name, subnet) == []
