"""``NetworkStore.remove(..., allow_default=True)``: undoing a default network one created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctrnet._errors import ConflictError, NetworkInUse
from ctrnet.networks import NetworkStore


def _default_store(store: NetworkStore) -> NetworkStore:
    return NetworkStore(
        store.settings.with_(default_subnet="10.200.2.0/24"), "linux", host_subnets=lambda: []
    )


def test_allow_default_removes_the_managed_default_network(store: NetworkStore) -> None:
    store = _default_store(store)
    made = store.ensure_default()
    with pytest.raises(ConflictError, match="is the default network"):
        store.remove(made.name)
    assert store.default() is not None
    removed = store.remove(made.name, allow_default=True)
    assert removed.file == made.file
    assert not Path(made.file).exists()
    assert store.default() is None


def test_allow_default_still_refuses_a_default_in_use_or_not_ours(store: NetworkStore) -> None:
    store = _default_store(store)
    made = store.ensure_default()
    with pytest.raises(NetworkInUse, match="box1"):
        store.remove(made.name, in_use=lambda n: ["box1"], allow_default=True)
    assert Path(made.file).exists()
    store.remove(made.name, allow_default=True)
    foreign = {
        "cniVersion": "0.4.0",
        "name": "bridge",
        "plugins": [{"type": "bridge", "bridge": "cni-x0", "ipam": {"type": "host-local"}}],
    }
    path = Path(store.settings.conf_dir, "10-bridge.conflist")
    path.write_text(json.dumps(foreign))
    with pytest.raises(ConflictError, match="was not created by ctrnet or nerdctl"):
        store.remove("bridge", allow_default=True)
    assert path.exists()
