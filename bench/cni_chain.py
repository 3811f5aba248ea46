#!/usr/bin/env python3
"""ADD and DEL of the default bridge chain (bridge, portmap, firewall, tuning) with one published
port: the ctrnet library against the same plugins executed directly, interleaved in one run.

Usage, as root from the repository: ``.venv/bin/python bench/cni_chain.py [-n ROUNDS]``.
Prints the medians and ctrnet/direct ratios (target: each within 1.10x).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.support.host import reserve_subnet  # noqa: E402

from ctrnet.cni import CNI, RuntimeConf, conflist_from_bytes  # noqa: E402

PLUGIN_DIR = "/usr/lib/cni"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chain(name: str, bridge: str, subnet: ipaddress.IPv4Network) -> dict[str, Any]:
    return {
        "cniVersion": "1.0.0",
        "name": name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": str(subnet), "gateway": str(subnet[1])}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall"},
            {"type": "tuning"},
        ],
    }


class Direct:
    """The floor: each plugin exec'd by hand, results chained, nothing cached."""

    def __init__(self, conf: dict[str, Any]) -> None:
        self.conf = conf
        self.bins = [os.path.join(PLUGIN_DIR, p["type"]) for p in conf["plugins"]]

    def _run(self, i: int, command: str, env: dict[str, str], extra: dict[str, Any]) -> bytes:
        plugin = dict(self.conf["plugins"][i])
        plugin.update(cniVersion=self.conf["cniVersion"], name=self.conf["name"], **extra)
        done = subprocess.run(
            [self.bins[i]],
            input=json.dumps(plugin).encode(),
            capture_output=True,
            env={**env, "CNI_COMMAND": command},
        )
        if done.returncode != 0:
            raise RuntimeError(f"{plugin['type']} {command}: {done.stdout!r} {done.stderr!r}")
        return done.stdout

    def add(self, env: dict[str, str], caps: dict[str, Any]) -> dict[str, Any]:
        prev: dict[str, Any] | None = None
        for i, plugin in enumerate(self.conf["plugins"]):
            extra: dict[str, Any] = {"prevResult": prev} if prev is not None else {}
            rc = {
                k: caps[k] for k, on in plugin.get("capabilities", {}).items() if on and k in caps
            }
            if rc:
                extra["runtimeConfig"] = rc
            prev = json.loads(self._run(i, "ADD", env, extra))
        assert prev is not None
        return prev

    def delete(self, env: dict[str, str], caps: dict[str, Any], result: dict[str, Any]) -> None:
        for i in reversed(range(len(self.conf["plugins"]))):
            plugin = self.conf["plugins"][i]
            extra: dict[str, Any] = {"prevResult": result}
            rc = {
                k: caps[k] for k, on in plugin.get("capabilities", {}).items() if on and k in caps
            }
            if rc:
                extra["runtimeConfig"] = rc
            self._run(i, "DEL", env, extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=15)
    opts = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 1
    tag = "ctbench" + secrets.token_hex(2)
    network, bridge = f"{tag}-net", f"{tag}b"
    reserved = reserve_subnet()  # the test suite's: a /24 of 10.200.0.0/13 nobody else holds
    if reserved is None:
        print("no free /24 in 10.200.0.0/13; wait for other runs to finish", file=sys.stderr)
        return 1
    subnet, marker = reserved
    conf_obj = chain(network, bridge, subnet)
    conf = conflist_from_bytes(json.dumps(conf_obj).encode())
    tmp = Path(tempfile.mkdtemp(prefix="ctrnet-bench-"))
    runtime = CNI((PLUGIN_DIR,), cache_dir=str(tmp / "cache"))
    direct = Direct(conf_obj)
    times: dict[str, list[float]] = {
        k: [] for k in ("ctrnet ADD", "direct ADD", "ctrnet DEL", "direct DEL")
    }
    try:
        for round_no in range(opts.rounds):
            order = ("ctrnet", "direct") if round_no % 2 == 0 else ("direct", "ctrnet")
            for who in order:
                ns = f"{tag}-{who[0]}{round_no}"
                netns = f"/run/netns/{ns}"
                subprocess.run(["ip", "netns", "add", ns], check=True)
                try:
                    cid = f"{tag}-{who}-{round_no}"
                    caps = {
                        "portMappings": [
                            {"hostPort": free_port(), "containerPort": 80, "protocol": "tcp"}
                        ]
                    }
                    if who == "ctrnet":
                        rt = RuntimeConf(container_id=cid, netns=netns, capability_args=caps)
                        t0 = time.perf_counter()
                        runtime.add(conf, rt)
                        t1 = time.perf_counter()
                        runtime.delete(conf, rt)
                    else:
                        env = dict(os.environ)
                        env.update(
                            CNI_CONTAINERID=cid,
                            CNI_NETNS=netns,
                            CNI_IFNAME="eth0",
                            CNI_ARGS="IgnoreUnknown=1",
                            CNI_PATH=PLUGIN_DIR,
                        )
                        t0 = time.perf_counter()
                        result = direct.add(env, caps)
                        t1 = time.perf_counter()
                        direct.delete(env, caps, result)
                    t2 = time.perf_counter()
                    times[f"{who} ADD"].append((t1 - t0) * 1000)
                    times[f"{who} DEL"].append((t2 - t1) * 1000)
                finally:
                    subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
    finally:
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        shutil.rmtree(Path("/var/lib/cni/networks", network), ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        marker.unlink(missing_ok=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{opts.rounds} rounds, interleaved; medians in ms")
    for op in ("ADD", "DEL"):
        ours, floor = med[f"ctrnet {op}"], med[f"direct {op}"]
        print(f"{op}: ctrnet {ours:7.1f}   direct {floor:7.1f}   ratio {ours / floor:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
