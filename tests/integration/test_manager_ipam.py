"""The manager on static and dhcp IPAM networks, with the real plugins."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._errors import PluginError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from ctrnet.networks import NetworkCreateOptions, NetworkStore
from ctrnet.networks._host import delete_bridge, delete_isolation_rules
from ctrnet.platform._netns_linux import NetnsBackend
from tests.support import host
from tests.support.reliability import residue

pytestmark = pytest.mark.root


def free_ula() -> ipaddress.IPv6Network:
    """A random fdXX:... /64 that no host address or route uses (never fd00::/64)."""
    used = [n for n in host.host_networks() if n.version == 6]
    for _ in range(100):
        net = ipaddress.IPv6Network(((0xFD << 120) | (secrets.randbits(56) << 64), 64))
        if net.network_address.packed[:2] != b"\xfd\x00" and not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free ULA test subnet")


def inet_addresses(netns: str, ifname: str) -> set[str]:
    """``address/prefixlen`` of every global address of ``ifname`` inside ``netns``."""
    out = subprocess.run(
        ["nsenter", f"--net={netns}", "ip", "-j", "addr", "show", "dev", ifname],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        f"{a['local']}/{a['prefixlen']}"
        for link in json.loads(out)
        for a in link["addr_info"]
        if a.get("scope") == "global"
    }


@pytest.fixture
def static_network(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> Iterator[tuple[str, ipaddress.IPv4Network, ipaddress.IPv6Network]]:
    store = NetworkStore(settings)
    ula = free_ula()
    name = f"{prefix}-st"
    opts = NetworkCreateOptions(
        name=name,
        ipam_driver="static",
        subnets=(str(subnet), str(ula)),
        ipv6=True,
        options={"com.docker.network.bridge.name": f"{prefix}st"},
    )
    store.create(opts)
    try:
        yield name, subnet, ula
    finally:
        manager = NetworkManager(settings)
        for sandbox in manager.list():
            with contextlib.suppress(Exception):
                manager.cleanup(sandbox.id)
        store.remove(name)
        delete_isolation_rules(f"{prefix}st")
        delete_bridge(f"{prefix}st")
    assert residue(settings, prefix, name, subnet) == []


def test_static_ipam_gets_ip_and_ip6_with_the_subnet_prefix_length(
    static_network: tuple[str, ipaddress.IPv4Network, ipaddress.IPv6Network],
    settings: Settings,
    prefix: str,
) -> None:
    name, subnet, ula = static_network
    manager = NetworkManager(settings)
    ip, ip6 = subnet.network_address + 21, ula.network_address + 0x21
    opts = NetworkOptions.parse(networks=[name], ip=str(ip), ip6=str(ip6), dns=["127.0.0.1"])
    sandbox = manager.setup(f"{prefix}-s1", opts)

    assert inet_addresses(sandbox.netns, "eth0") == {f"{ip}/{subnet.prefixlen}", f"{ip6}/64"}
    assert set(sandbox.networks[0].ips) == {f"{ip}/{subnet.prefixlen}", f"{ip6}/64"}
    hosts = Path(sandbox.hosts_path).read_text()
    assert str(ip) in hosts and f"{ip}/" not in hosts  # the hosts file gets the bare address
    manager.cleanup(sandbox.id)
    assert manager.list() == []
    assert not Path(sandbox.netns).exists()


def test_dhcp_network_without_its_daemon_fails_with_the_networks_hint(
    no_leftovers: Callable[[], list[str]], settings: Settings, prefix: str, tmp_path: Path
) -> None:
    """No DHCP daemon listens on the private socket path: the error says how to start one."""
    socket_path = tmp_path / "dhcp.sock"
    bridge = f"{prefix}dh"
    name = f"{prefix}-dhcp"
    conf = {
        "cniVersion": "1.0.0",
        "name": name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "ipam": {"type": "dhcp", "daemonSocketPath": str(socket_path)},
            }
        ],
    }
    Path(settings.conf_dir, f"{name}.conflist").write_text(json.dumps(conf))
    manager = NetworkManager(settings)
    sid = f"{prefix}-s1"
    try:
        with pytest.raises(PluginError) as err:
            manager.setup(sid, NetworkOptions.parse(networks=[name], dns=["127.0.0.1"]))
        text = str(err.value)
        assert err.value.network == name
        assert f"dhcp daemon --socketpath={socket_path}" in text, text
        # the rollback's DEL fails too (no daemon): what is left is kept for a retry, not ready
        assert [s.state for s in manager.list()] in ([], ["removing"])
    finally:
        # no daemon will ever answer the DEL here: remove what the rollback kept by hand
        for sandbox in manager.list():
            if sandbox.netns:
                NetnsBackend(settings.netns_dir).remove(sandbox.netns)
            manager.ctx.store.remove(sandbox.id)
        shutil.rmtree(Path(settings.cache_dir, "results"), ignore_errors=True)
        with contextlib.suppress(Exception):
            delete_bridge(bridge)
