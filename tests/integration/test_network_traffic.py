"""A network made by ``ctrnet network create`` carries traffic; ``rm`` takes its bridge along."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

from ctrnet._settings import Settings
from ctrnet.cni import CNI, RuntimeConf, load_file
from ctrnet.networks import NetworkStore
from ctrnet.networks._host import isolation_rules
from tests.support.reliability import cli_argv, remove_bridge

pytestmark = pytest.mark.root


def ctrnet(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    return subprocess.run(
        cli_argv(settings, *args),
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def _link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


@pytest.fixture
def bridge(prefix: str) -> Iterator[str]:
    """The test network's bridge name; removed with its isolation rules even on failure."""
    name = f"{prefix}br"
    yield name
    remove_bridge(name)


def test_created_network_carries_traffic_and_rm_removes_bridge_and_rules(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    netns_factory: Callable[[], str],
    bridge: str,
) -> None:
    name = f"{prefix}-net"
    made = ctrnet(
        settings,
        "network",
        "create",
        name,
        "--subnet",
        str(subnet),
        "-o",
        f"com.docker.network.bridge.name={bridge}",
        "--label",
        "test=1",
    )
    assert made.returncode == 0, made.stderr
    net = NetworkStore(settings).get(name)
    assert made.stdout.strip() == net.id
    conf = load_file(net.file)
    runtime = CNI.from_settings(settings)
    attached: list[RuntimeConf] = []
    try:
        ips = []
        for i in range(2):
            rt = RuntimeConf(container_id=f"{prefix}-c{i}", netns=netns_factory())
            added = ctrnet(
                settings, "cni", "add", name, rt.netns, "--container-id", rt.container_id
            )
            assert added.returncode == 0, added.stderr
            attached.append(rt)
            address = json.loads(added.stdout)["ips"][0]["address"]
            ips.append(ipaddress.ip_interface(address).ip)
        assert all(ip in subnet for ip in ips)
        ns0 = os.path.basename(attached[0].netns)
        ping = subprocess.run(
            ["ip", "netns", "exec", ns0, "busybox", "ping", "-c", "1", "-W", "2", str(ips[1])],
            capture_output=True,
            text=True,
            check=False,
        )
        assert ping.returncode == 0, ping.stdout + ping.stderr
        assert _link_exists(bridge)
        assert isolation_rules(bridge), "the firewall plugin added no isolation rule"

        inspect = ctrnet(settings, "network", "inspect", name)
        assert inspect.returncode == 0, inspect.stderr
        assert f"{prefix}-c0" in inspect.stdout and str(ips[1]) in inspect.stdout

        busy = ctrnet(settings, "network", "rm", name)
        assert busy.returncode == 4
        assert f"is in use by {prefix}-c0, {prefix}-c1" in busy.stderr
    finally:
        for rt in reversed(attached):
            runtime.delete(conf, rt)

    gone = ctrnet(settings, "network", "rm", name)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.strip() == name
    assert not _link_exists(bridge)
    assert isolation_rules(bridge) == []
    assert not os.path.exists(net.file)
    leases = f"/var/lib/cni/networks/{name}"  # no lease left; host-local's lock file is kept
    assert not os.path.exists(leases) or os.listdir(leases) == ["lock"]
    shutil.rmtree(leases, ignore_errors=True)  # the test's own network name
