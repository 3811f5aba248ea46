"""The main job, end to end with ``ctrnet cni``: a namespace on a bridge network serving HTTP,
published on 127.0.0.1 and fetched from the host, then everything torn down and checked.

Run as root from the venv (``bash scripts/dev demo``). Safe to run twice: every name is unique
to the run, and cleanup runs even when a step fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

LEASES = Path("/var/lib/cni/networks")
CNI_PATH = "/opt/cni/bin:/usr/lib/cni"


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def used_networks() -> list[ipaddress.IPv4Network]:
    nets = []
    for route in json.loads(sh("ip", "-j", "-4", "route", "show", "table", "all").stdout or "[]"):
        dst = route.get("dst", "")
        if dst and dst != "default":
            with contextlib.suppress(ValueError):
                nets.append(ipaddress.IPv4Network(dst, strict=False))
    return nets


def pick_subnet() -> ipaddress.IPv4Network:
    """10.4.0.0/24 unless something on the host uses it, else the first free 10.4.x.0/24."""
    used = used_networks()
    for net in ipaddress.IPv4Network("10.4.0.0/16").subnets(new_prefix=24):
        if not any(net.overlaps(u) for u in used):
            return net
    raise SystemExit("no free /24 in 10.4.0.0/16")


def pick_port() -> int:
    """8080 if free on 127.0.0.1, else any free port."""
    for port in (8080, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise SystemExit("no free port")


def ctrnet(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ctrnet", "cni", *args], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"ctrnet cni {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def conflist(name: str, bridge: str, subnet: ipaddress.IPv4Network) -> dict[str, Any]:
    """The shape of nerdctl's default network: bridge, portmap, firewall, tuning."""
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


def leftovers(tag: str, container_id: str, network: str, ns: str) -> list[str]:
    left = []
    if Path("/run/netns", ns).exists():
        left.append(f"namespace {ns}")
    left += [f"link {n}" for n in sh("ip", "-o", "link").stdout.split() if tag in n]
    for table in ("nat", "filter"):
        rules = sh("iptables", "-w", "-t", table, "-S", check=False).stdout.splitlines()
        left += [f"rule {r}" for r in rules if container_id in r]
    lease_dir = LEASES / network
    if lease_dir.is_dir():
        held = [p.name for p in lease_dir.iterdir() if p.name[0].isdigit()]
        left += [f"lease {network}/{h}" for h in held]
    return left


def main() -> int:
    if os.geteuid() != 0:
        print("the demo needs root (network namespaces, bridges, iptables)", file=sys.stderr)
        return 1
    tag = "ctdemo" + secrets.token_hex(2)
    network, bridge, ns, container_id = f"{tag}-net", f"{tag}br", f"{tag}-ns", f"{tag}-ctr"
    netns = f"/run/netns/{ns}"
    subnet, port = pick_subnet(), pick_port()
    tmp = Path(tempfile.mkdtemp(prefix="ctrnet-demo-"))
    (tmp / "net.d").mkdir()
    (tmp / "www").mkdir()
    (tmp / "www" / "index.html").write_text(f"hello from {ns}, served through ctrnet\n")
    conf_file = tmp / "net.d" / f"10-{network}.conflist"
    conf_file.write_text(json.dumps(conflist(network, bridge, subnet), indent=2))
    env = dict(os.environ)
    env.update(
        NETCONFPATH=str(tmp / "net.d"),
        CNI_PATH=CNI_PATH,
        CNI_CACHEDIR=str(tmp / "cache"),
        CNI_CONTAINERID=container_id,
        CAP_ARGS=json.dumps(
            {"portMappings": [{"hostPort": port, "containerPort": 80, "protocol": "tcp"}]}
        ),
    )
    server: subprocess.Popen[bytes] | None = None
    added = created = False
    ok = False
    try:
        print(f"network {network}: subnet {subnet}, bridge {bridge}, config {conf_file}")
        sh("ip", "netns", "add", ns)
        created = True
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        print(f"namespace {netns} created")
        added = True
        result = json.loads(ctrnet(env, "add", network, netns))
        ip = result["ips"][0]["address"].split("/")[0]
        print(
            f"ctrnet cni add: {ns} got {result['ips'][0]['address']}, port 127.0.0.1:{port} -> {ip}:80"
        )
        server = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                ns,
                sys.executable,
                "-m",
                "http.server",
                "80",
                "--bind",
                "0.0.0.0",
                "--directory",
                str(tmp / "www"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        body = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        if not body:
            raise RuntimeError(f"nothing answered on 127.0.0.1:{port}")
        print(f"GET http://127.0.0.1:{port}/ -> {body.decode().strip()!r}")
        ok = True
    except (RuntimeError, subprocess.CalledProcessError, KeyError, ValueError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if added:
            try:
                ctrnet(env, "del", network, netns)  # with the real namespace, before it goes
                print("ctrnet cni del: done")
            except RuntimeError as exc:
                ok = False
                print(exc, file=sys.stderr)
        if created:
            sh("ip", "netns", "delete", ns, check=False)
        sh("ip", "link", "del", bridge, check=False)
        shutil.rmtree(LEASES / network, ignore_errors=True)
        left = leftovers(tag, container_id, network, ns)
        shutil.rmtree(tmp, ignore_errors=True)
        if left:
            ok = False
            print("left behind:\n  " + "\n  ".join(left), file=sys.stderr)
        else:
            print("cleanup checked: no namespace, link, rule or lease left")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
