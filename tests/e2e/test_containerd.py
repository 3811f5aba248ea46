"""containerd on a ctrnet sandbox: ``ctr run --with-ns network:<netns>``."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.containerd import private_containerd

pytestmark = pytest.mark.e2e

Ctrnet = Callable[..., subprocess.CompletedProcess[str]]


def test_ctr_run_joins_a_ctrnet_sandbox(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    rootfs: Path,
    subnet: ipaddress.IPv4Network,
    prefix: str,
) -> None:
    sid = f"{prefix}-ctrd"
    made = ctrnet(
        "setup", sid, "--hostname", f"{prefix}box", "--dns", "127.0.0.1", "--format", "json"
    )
    assert made.returncode == 0, made.stderr
    try:
        sandbox = json.loads(made.stdout)
        address = sandbox["networks"][0]["ips"][0].split("/")[0]
        gateway = sandbox["networks"][0]["gateways"][0]
        with private_containerd(prefix) as containerd:
            proc = subprocess.run(
                containerd.ctr(
                    "run", "--rm", "--env", "PATH=/bin",
                    "--with-ns", f"network:{sandbox['netns']}",
                    "--mount", f"type=bind,src={sandbox['hosts_path']},dst=/etc/hosts,options=rbind:ro",
                    "--rootfs", str(rootfs), f"{prefix}-c1",
                    "sh", "-c", "ip -4 -o addr show eth0; cat /etc/hosts; ping -c 1 -W 5 " + gateway,
                ),
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stdout + proc.stderr
            listed = subprocess.run(
                containerd.ctr("containers", "ls", "-q"),
                capture_output=True,
                text=True,
                check=False,
            )
            assert listed.stdout.split() == []  # --rm removed it
        assert f"inet {address}/{subnet.prefixlen}" in proc.stdout
        assert ipaddress.ip_address(address) in subnet
        # the sandbox's hosts file, with the sandbox's own name and address
        assert [address, f"{prefix}box"] in [line.split() for line in proc.stdout.splitlines()]
        assert "1 packets received" in proc.stdout
    finally:
        done = ctrnet("teardown", sid)
    assert done.returncode == 0, done.stderr
    assert not sandbox_leftovers()
