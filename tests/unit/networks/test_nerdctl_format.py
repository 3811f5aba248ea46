"""What ctrnet writes, read back the way nerdctl reads a conf dir (reference 5.1, 5.5-5.7)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctrnet.networks import NetworkCreateOptions, NetworkStore

CONF_EXTENSIONS = (".conf", ".conflist", ".json")


def nerdctl_read(conf_dir: str) -> list[dict[str, Any]]:
    """nerdctl's ``networkConfigList``: sorted files, strict parse, nerdctlID / nerdctlLabels."""
    out = []
    for name in sorted(os.listdir(conf_dir)):
        if not name.endswith(CONF_EXTENSIONS):
            continue
        path = os.path.join(conf_dir, name)
        raw = json.loads(Path(path).read_bytes())  # any broken file fails nerdctl's listing
        assert isinstance(raw["name"], str) and raw["name"]
        assert isinstance(raw["cniVersion"], str)
        assert raw["plugins"] and all(isinstance(p["type"], str) for p in raw["plugins"])
        ident = raw.get("nerdctlID")
        labels = raw.get("nerdctlLabels")
        assert ident is None or isinstance(ident, str)  # *string in Go
        assert labels is None or all(isinstance(v, str) for v in labels.values())
        out.append({"raw": raw, "id": ident, "labels": labels, "file": path})
    return out


def network_map(configs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """v1.7 ``NetworkMap``: by name, and by full and 12-character ID when there is one."""
    keyed: dict[str, dict[str, Any]] = {}
    for conf in configs:
        keyed[conf["raw"]["name"]] = conf
        if conf["id"]:
            keyed[conf["id"]] = conf
            keyed[conf["id"][:12]] = conf
    return keyed


def dockercompat_config(conf: dict[str, Any]) -> list[dict[str, str]]:
    """``IPAM.Config`` as nerdctl builds it: ``plugins.#.ipam.ranges`` flattened twice."""
    entries = []
    for plugin in conf["raw"]["plugins"]:
        for rangeset in plugin.get("ipam", {}).get("ranges", []):
            for rng in rangeset:
                entry = {"Subnet": rng["subnet"], "Gateway": rng.get("gateway", "")}
                if rng.get("ipRange"):
                    entry["IPRange"] = rng["ipRange"]
                entries.append(entry)
    return entries


def test_nerdctl_reads_what_ctrnet_writes(make_store: Callable[..., NetworkStore]) -> None:
    store = make_store(default_bridge="nerdctl0")
    store.ensure_default()
    store.create(
        NetworkCreateOptions(
            name="web",
            subnets=("10.200.1.0/24", "fd12:3456:789a:1::/64"),
            ip_ranges=("10.200.1.0/25",),
            ipv6=True,
            labels={"com.docker.compose.project": "shop", "tier": ""},
        )
    )
    store.create(
        NetworkCreateOptions(
            name="lan",
            driver="macvlan",
            options={"parent": "ens9", "mode": "bridge"},
            subnets=("10.200.2.0/24",),
        )
    )
    configs = nerdctl_read(store.settings.conf_dir)
    keyed = network_map(configs)
    for name in ("bridge", "web", "lan"):
        conf = keyed[name]
        ident = hashlib.sha256(name.encode()).hexdigest()
        assert conf["id"] == ident and keyed[ident] is conf and keyed[ident[:12]] is conf
        assert os.path.basename(conf["file"]) == f"nerdctl-{name}.conflist"
        assert stat.S_IMODE(os.stat(conf["file"]).st_mode) == 0o644
        assert conf["raw"]["cniVersion"] == "1.0.0"
        assert not Path(conf["file"]).read_bytes().endswith(b"\n")  # json.MarshalIndent
    # the default network: found by the label key, created with nerdctl's name and bridge
    defaults = [c for c in configs if "nerdctl/default-network" in (c["labels"] or {})]
    assert [c["raw"]["name"] for c in defaults] == ["bridge"]
    assert defaults[0]["raw"]["plugins"][0]["bridge"] == "nerdctl0"
    web = keyed["web"]
    assert web["labels"] == {"com.docker.compose.project": "shop", "tier": ""}
    assert dockercompat_config(web) == [
        {"Subnet": "10.200.1.0/24", "Gateway": "10.200.1.1", "IPRange": "10.200.1.0/25"},
        {"Subnet": "fd12:3456:789a:1::/64", "Gateway": "fd12:3456:789a:1::1"},
    ]
    assert [p["type"] for p in web["raw"]["plugins"]] == ["bridge", "portmap", "firewall", "tuning"]
    assert web["raw"]["plugins"][0]["bridge"] == "br-" + web["id"][:12]
    lan = keyed["lan"]["raw"]["plugins"]
    assert [p["type"] for p in lan] == ["macvlan"] and lan[0]["master"] == "ens9"
    assert keyed["lan"]["labels"] == {}  # v1.7 writes {} for no labels; v2 reads both
