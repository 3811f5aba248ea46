"""Networks as products: the conflist store, drivers, IPAM, subnets and the default network."""

from __future__ import annotations

from ctrnet.networks.model import Network
from ctrnet.networks.options import NetworkCreateOptions
from ctrnet.networks.store import NetworkStore

__all__ = ["Network", "NetworkCreateOptions", "NetworkStore"]
