"""The store: listing every file, lookup, removal rules, the default network, concurrency."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ctrnet._errors import (
    AmbiguousReference,
    ConflictError,
    NetworkInUse,
    NetworkNotFound,
)
from ctrnet._settings import Settings
from ctrnet.networks import NetworkCreateOptions, NetworkStore


def _write(store: NetworkStore, name: str, data: object) -> Path:
    path = Path(store.settings.conf_dir, name)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


FOREIGN = {
    "cniVersion": "0.4.0",
    "name": "podnet",
    "plugins": [
        {
            "type": "bridge",
            "bridge": "cni-pod0",
            "ipam": {"type": "host-local", "subnet": "10.200.9.0/24", "gateway": "10.200.9.1"},
        }
    ],
}


def test_list_shows_foreign_and_broken_files(store: NetworkStore) -> None:
    store.create(NetworkCreateOptions(name="mine", subnets=("10.200.1.0/24",)))
    _write(store, "10-podnet.conflist", FOREIGN)
    _write(store, "99-broken.conflist", "{not json")
    _write(store, "ignored.txt", "{}")
    nets = {n.name: n for n in store.list()}
    assert sorted(nets) == ["99-broken", "mine", "podnet"]
    assert nets["mine"].managed and nets["mine"].error is None
    assert not nets["podnet"].managed and nets["podnet"].id == ""
    assert [str(s) for s in nets["podnet"].subnets] == ["10.200.9.0/24"]
    assert nets["99-broken"].error is not None and "JSON" in nets["99-broken"].error


def test_foreign_subnets_block_overlapping_creates_and_the_pool(store: NetworkStore) -> None:
    _write(
        store,
        "10-podnet.conflist",
        {
            **FOREIGN,
            "plugins": [
                {"type": "bridge", "ipam": {"type": "host-local", "subnet": "10.4.1.0/24"}}
            ],
        },
    )
    net = store.create(NetworkCreateOptions(name="mine"))
    # 10.4.1.0/24 is podnet's, 10.4.2.0/24 a host route: the pool walks on to 10.4.3.0/24
    assert [str(s) for s in net.subnets] == ["10.4.3.0/24"]


def test_lookup_by_name_full_id_and_unique_prefix(store: NetworkStore) -> None:
    foo = store.create(NetworkCreateOptions(name="foo"))  # id 2c26b46b...
    assert store.get("foo") == foo
    assert store.get(foo.id) == foo
    assert store.get("2c2") == foo
    assert store.get(foo.id[:12].upper()) == foo
    with pytest.raises(NetworkNotFound, match="network 'nothing' not found"):
        store.get("nothing")
    with pytest.raises(NetworkNotFound, match="'host' is a network mode"):
        store.get("host")


def test_ambiguous_prefix_lists_the_matches(store: NetworkStore) -> None:
    # sha256("n1") and sha256("n8") both start with "b"? find two names sharing a first digit
    names = [f"n{i}" for i in range(40)]
    made = [
        store.create(NetworkCreateOptions(name=n, subnets=(f"10.201.{i}.0/24",)))
        for i, n in enumerate(names[:20])
    ]
    first = made[0].id[0]
    sharing = [n for n in made if n.id[0] == first]
    assert len(sharing) >= 2
    with pytest.raises(AmbiguousReference) as info:
        store.get(first)
    for net in sharing:
        assert f"{net.short_id} ({net.name})" in str(info.value)


def test_remove_refuses_default_foreign_broken_and_in_use(store: NetworkStore) -> None:
    store = NetworkStore(
        store.settings.with_(default_subnet="10.200.2.0/24"), "linux", host_subnets=lambda: []
    )
    store.ensure_default()
    _write(store, "10-podnet.conflist", FOREIGN)
    _write(store, "nerdctl-broken.conflist", "{")
    store.create(NetworkCreateOptions(name="used", subnets=("10.200.3.0/24",)))
    with pytest.raises(
        ConflictError, match="'bridge' is the default network and cannot be removed"
    ):
        store.remove("bridge")
    with pytest.raises(ConflictError, match="was not created by ctrnet or nerdctl"):
        store.remove("podnet")
    with pytest.raises(ConflictError, match="is not a valid config"):
        store.remove("broken")
    with pytest.raises(NetworkInUse, match="network 'used' is in use by box1, box2"):
        store.remove("used", in_use=lambda n: ["box2", "box1"])
    assert sorted(n.name for n in store.list()) == ["bridge", "broken", "podnet", "used"]
    store.remove("used", in_use=lambda n: [])
    assert sorted(n.name for n in store.list()) == ["bridge", "broken", "podnet"]


def test_prune_keeps_default_foreign_and_in_use(store: NetworkStore) -> None:
    store = NetworkStore(
        store.settings.with_(default_subnet="10.200.2.0/24"), "linux", host_subnets=lambda: []
    )
    store.ensure_default()
    _write(store, "10-podnet.conflist", FOREIGN)
    for i, name in enumerate(("a", "b", "c")):
        store.create(NetworkCreateOptions(name=name, subnets=(f"10.200.{10 + i}.0/24",)))
    removed = store.prune(in_use=lambda n: ["box"] if n.name == "b" else [])
    assert sorted(removed) == ["a", "c"]
    assert sorted(n.name for n in store.list()) == ["b", "bridge", "podnet"]


def test_a_foreign_network_named_bridge_is_the_default(store: NetworkStore) -> None:
    _write(store, "10-bridge.conflist", {**FOREIGN, "name": "bridge"})
    net = store.ensure_default()
    assert (net.name, net.is_default, net.managed) == ("bridge", True, False)
    assert len([f for f in os.listdir(store.settings.conf_dir) if f.endswith(".conflist")]) == 1


def test_concurrent_first_use_creates_one_default_network(
    make_store: Callable[..., NetworkStore],
) -> None:
    stores = [make_store(default_subnet="10.200.4.0/24") for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        nets = list(pool.map(lambda s: s.ensure_default(), stores))
    assert {n.file for n in nets} == {
        str(Path(stores[0].settings.conf_dir, "nerdctl-bridge.conflist"))
    }
    assert [n.name for n in stores[0].list()] == ["bridge"]


def _ctrnet(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctrnet",
            "--cni-netconfpath",
            settings.conf_dir,
            "--cni-cachedir",
            settings.cache_dir,
            "--cni-path",
            ":".join(settings.cni_path),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_twenty_concurrent_creates_get_distinct_subnets(settings: Settings) -> None:
    procs = [_ctrnet(settings, "network", "create", f"par{i}") for i in range(20)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, [o[1] for o in outputs]
    nets = NetworkStore(settings).list()
    assert sorted(n.name for n in nets) == sorted(f"par{i}" for i in range(20))
    subnets = [s for n in nets for s in n.subnets]
    assert len(subnets) == 20
    for i, a in enumerate(subnets):
        for b in subnets[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    assert all(s.subnet_of(ipaddress.ip_network("10.4.0.0/16")) for s in subnets)  # type: ignore[arg-type]
    assert sorted(o[0].strip() for o in outputs) == sorted(n.id for n in nets)
