"""Fixtures for the runtime tests: the test plugin installed as t1..t3, a CNI over it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ctrnet.cni import CNI, NetworkConfigList, conflist_from_bytes
from tests.support.testplugin import install


class Lab:
    """A plugin dir, a cache dir, a call log and a state dir for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.cache = root / "cache"
        self.log = root / "calls.jsonl"
        self.state = root / "state"
        for name in ("t1", "t2", "t3"):
            install(self.bin, name)
        # the default 60 s per call: these tests assert what plugins receive, not how fast they
        # start, and a Python plugin can take seconds to start on a loaded 2-core machine (the
        # timeout tests build their own CNI)
        self.cni = CNI((str(root / "empty"), str(self.bin)), cache_dir=str(self.cache))

    def conf(
        self, *plugins: dict[str, Any], version: str = "1.0.0", name: str = "testnet", **top: Any
    ) -> NetworkConfigList:
        """A conflist whose plugins record to the log and keep state."""
        objs = []
        for p in plugins:
            opts = {"record": str(self.log), "state": str(self.state / p["type"])}
            opts.update(p.get("testplugin", {}))
            objs.append({**p, "testplugin": opts})
        data = {"cniVersion": version, "name": name, "plugins": objs, **top}
        return conflist_from_bytes(json.dumps(data).encode())

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def summary(self) -> list[tuple[str, str]]:
        return [(c["command"], c["type"]) for c in self.calls()]

    def held(self) -> list[str]:
        """Attachments the plugins still hold (state files), as "type/id-ifname"."""
        if not self.state.exists():
            return []
        return sorted(f"{d.name}/{f.name}" for d in self.state.iterdir() for f in d.iterdir())

    def cache_files(self) -> list[str]:
        results = self.cache / "results"
        return sorted(p.name for p in results.iterdir()) if results.exists() else []


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


@pytest.fixture
def three(lab: Lab) -> Callable[..., NetworkConfigList]:
    """The three-plugin chain t1 -> t2 (portMappings) -> t3, optionally with actions."""

    def make(
        on: dict[str, dict[str, Any]] | None = None, version: str = "1.0.0", **top: Any
    ) -> NetworkConfigList:
        on = on or {}
        plugins = [
            {"type": "t1", "testplugin": {"on": on.get("t1", {})}},
            {
                "type": "t2",
                "capabilities": {"portMappings": True, "mac": False},
                "testplugin": {"on": on.get("t2", {})},
            },
            {"type": "t3", "testplugin": {"on": on.get("t3", {})}},
        ]
        return lab.conf(*plugins, version=version, **top)

    return make
