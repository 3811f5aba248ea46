"""Every driver and IPAM driver, attached for real through the manager or ``ctrnet cni add``."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator

import pytest

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings
from ctrnet.cni import CNI, RuntimeConf, load_file
from ctrnet.manager import NetworkManager, NetworkOptions, Sandbox
from ctrnet.networks import Network, NetworkStore
from ctrnet.networks.ipam import DHCP_SOCKET
from tests.integration.test_network_traffic import ctrnet
from tests.support import host
from tests.support.reliability import remove_bridge

pytestmark = pytest.mark.root

IPv4Net = ipaddress.IPv4Network


def ns_name(sandbox: Sandbox) -> str:
    return os.path.basename(sandbox.netns)


def in_ns(ns: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, check=False
    )


def ip_json(ns: str, *args: str) -> list[dict[str, object]]:
    out = subprocess.run(
        ["ip", "-n", ns, "-j", *args], capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out or "[]"))


def addresses(
    ns: str, dev: str = "eth0"
) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
    found = []
    for link in ip_json(ns, "addr", "show", "dev", dev):
        for info in link.get("addr_info", []):  # type: ignore[attr-defined]
            if info.get("scope") == "global":
                found.append(ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}"))
    return found


def ping(ns: str, address: object, *, family: str = "-4") -> subprocess.CompletedProcess[str]:
    """One ping from ``ns``; up to three tries so a still-settling link does not fail it."""
    done = in_ns(ns, "busybox", "ping", family, "-c", "1", "-W", "2", str(address))
    for _ in range(2):
        if done.returncode == 0:
            break
        done = in_ns(ns, "busybox", "ping", family, "-c", "1", "-W", "2", str(address))
    return done


def nat_rules_naming(text: str) -> list[str]:
    return [r for r in host.iptables_rules() if " nat " in r and text in r]


@pytest.fixture
def ula_subnet() -> ipaddress.IPv6Network:
    """A random fdXX:… /64 (ULA) that no host route or address uses; never fd00::/64."""
    used = [n for n in host.host_networks() if n.version == 6]
    for _ in range(100):
        bits = secrets.randbits(56)
        net = ipaddress.IPv6Network(((0xFD << 120) | (bits << 64), 64))
        if net.network_address.packed[:2] == b"\xfd\x00":
            continue
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free ULA test subnet")


@pytest.fixture
def bridges(prefix: str) -> Iterator[Callable[[], str]]:
    """Prefix-named bridge names; each removed with its isolation rules at teardown."""
    names: list[str] = []

    def make() -> str:
        names.append(f"{prefix}b{len(names)}")
        return names[-1]

    yield make
    for name in names:
        remove_bridge(name)


@pytest.fixture
def parent_link(prefix: str) -> Iterator[str]:
    """A prefix-named link, up, to parent macvlan / ipvlan networks; deleted after.

    A veth pair (this kernel has no dummy driver); only ``<prefix>p0`` is used as the parent.
    """
    name = f"{prefix}p0"
    subprocess.run(
        ["ip", "link", "add", name, "type", "veth", "peer", "name", f"{prefix}p1"], check=True
    )
    try:
        for link in (name, f"{prefix}p1"):
            subprocess.run(["ip", "link", "set", link, "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=False, capture_output=True)


def kernel_has_ipvlan(parent: str) -> bool:
    """Whether this kernel can make an ipvlan link (probed on ``parent``, removed at once)."""
    probe = f"{parent[:-2]}iv"
    made = subprocess.run(
        ["ip", "link", "add", probe, "link", parent, "type", "ipvlan", "mode", "l2"],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode == 0:
        subprocess.run(["ip", "link", "del", probe], check=False, capture_output=True)
        return True
    assert "Unknown device type" in made.stderr, made.stderr
    return False


@pytest.fixture
def networks(settings: Settings) -> Iterator[Callable[..., Network]]:
    """``ctrnet network create NAME ARGS...`` (must succeed); removed again at teardown."""
    made: list[str] = []

    def create(name: str, *args: str) -> Network:
        done = ctrnet(settings, "network", "create", name, *args)
        assert done.returncode == 0, done.stderr
        made.append(name)
        return NetworkStore(settings).get(name)

    yield create
    store = NetworkStore(settings)
    for name in reversed(made):
        with contextlib.suppress(CtrnetError):
            store.remove(name)


@pytest.fixture
def sandboxes(settings: Settings, prefix: str) -> Iterator[Callable[..., Sandbox]]:
    """``NetworkManager.setup`` with a loopback resolver; every sandbox cleaned up after."""
    mgr = NetworkManager(settings)
    ids: list[str] = []

    def setup(*nets: str, **opts: object) -> Sandbox:
        sandbox_id = f"{prefix}-s{len(ids)}"
        ids.append(sandbox_id)
        options = NetworkOptions(networks=nets, dns_servers=("127.0.0.1",), **opts)  # type: ignore[arg-type]
        return mgr.setup(sandbox_id, options)

    yield setup
    for sandbox_id in reversed(ids):
        with contextlib.suppress(CtrnetError):
            mgr.cleanup(sandbox_id)


def test_host_local_ip_range_is_honoured(
    no_leftovers: Callable[[], list[str]],
    subnet: IPv4Net,
    prefix: str,
    bridges: Callable[[], str],
    networks: Callable[..., Network],
    sandboxes: Callable[..., Sandbox],
) -> None:
    ip_range = list(subnet.subnets(new_prefix=26))[3]  # the top quarter, up to the broadcast
    net = networks(
        f"{prefix}-rng",
        "--subnet",
        str(subnet),
        "--ip-range",
        str(ip_range),
        "-o",
        f"com.docker.network.bridge.name={bridges()}",
    )
    boxes = [sandboxes(net.name), sandboxes(net.name)]
    got = [addresses(ns_name(box)) for box in boxes]
    for box, found in zip(boxes, got, strict=True):
        assert len(found) == 1, found
        assert found[0].network == subnet
        assert found[0].ip in ip_range and found[0].ip != subnet.broadcast_address
        assert box.networks[0].ips == (str(found[0]),)
        assert box.networks[0].gateways == (str(subnet.network_address + 1),)
    assert got[0][0].ip != got[1][0].ip
    assert ping(ns_name(boxes[0]), got[1][0].ip).returncode == 0


def test_dual_stack_gets_both_addresses_a_v6_default_route_and_v6_traffic(
    no_leftovers: Callable[[], list[str]],
    subnet: IPv4Net,
    ula_subnet: ipaddress.IPv6Network,
    prefix: str,
    bridges: Callable[[], str],
    networks: Callable[..., Network],
    sandboxes: Callable[..., Sandbox],
) -> None:
    net = networks(
        f"{prefix}-ds",
        "--ipv6",
        "--subnet",
        str(subnet),
        "--subnet",
        str(ula_subnet),
        "-o",
        f"com.docker.network.bridge.name={bridges()}",
    )
    assert net.ipv6
    # the second sandbox asks for its addresses (--ip / --ip6 through the manager)
    wanted = (subnet.network_address + 77, ula_subnet.network_address + 0x77)
    boxes = [sandboxes(net.name), sandboxes(net.name, ip=str(wanted[0]), ip6=str(wanted[1]))]
    assert {a.ip for a in addresses(ns_name(boxes[1]))} == set(wanted)
    v6 = []
    for box in boxes:
        ns = ns_name(box)
        got = addresses(ns)
        assert sorted(a.version for a in got) == [4, 6], got
        assert any(a.ip in subnet for a in got)
        mine = next(a for a in got if a.version == 6)
        assert mine.ip in ula_subnet
        v6.append(mine.ip)
        default6 = ip_json(ns, "-6", "route", "show", "default")
        assert [r.get("gateway") for r in default6] == [str(ula_subnet.network_address + 1)]
        assert ip_json(ns, "-4", "route", "show", "default"), "no IPv4 default route"
    done = ping(ns_name(boxes[0]), v6[1], family="-6")
    assert done.returncode == 0, done.stdout + done.stderr


def test_internal_network_has_no_default_route_masquerade_or_portmap(
    no_leftovers: Callable[[], list[str]],
    subnet_factory: Callable[[], IPv4Net],
    prefix: str,
    bridges: Callable[[], str],
    networks: Callable[..., Network],
    sandboxes: Callable[..., Sandbox],
) -> None:
    """Two IPv4 subnets work here: without a gateway the bridge holds no address."""
    subnet, second = subnet_factory(), subnet_factory()
    bridge = bridges()
    net = networks(
        f"{prefix}-int",
        "--internal",
        "--subnet",
        str(subnet),
        "--subnet",
        str(second),
        "-o",
        f"com.docker.network.bridge.name={bridge}",
    )
    assert net.conflist is not None
    assert "portmap" not in [p.type for p in net.conflist.plugins]
    boxes = [sandboxes(net.name), sandboxes(net.name)]
    ns = ns_name(boxes[0])
    got = addresses(ns)
    assert len(got) == 2 and got[0].network != got[1].network, got
    assert {a.network for a in got} == {subnet, second}
    assert ip_json(ns, "route", "show", "default") == []
    assert nat_rules_naming(net.name) == [], "internal network got a masquerade rule"
    bridge_addrs = [a for link in ip_json_host("addr", "show", "dev", bridge) for a in link]
    assert bridge_addrs == [], "the bridge of an internal network must have no gateway address"
    peer = next(a.ip for a in addresses(ns_name(boxes[1])) if a.ip in subnet)
    assert ping(ns, peer).returncode == 0, "sandboxes on one internal network reach each other"


def ip_json_host(*args: str) -> list[list[str]]:
    """Global IPv4 addresses per link in the host namespace."""
    out = subprocess.run(["ip", "-j", "-4", *args], capture_output=True, text=True, check=True)
    return [
        [a["local"] for a in link.get("addr_info", []) if a.get("scope") == "global"]
        for link in json.loads(out.stdout or "[]")
    ]


def test_mtu_and_ip_masq_options_show_on_the_host_and_in_the_sandbox(
    no_leftovers: Callable[[], list[str]],
    subnet_factory: Callable[[], IPv4Net],
    prefix: str,
    bridges: Callable[[], str],
    networks: Callable[..., Network],
    sandboxes: Callable[..., Sandbox],
) -> None:
    quiet_bridge = bridges()
    quiet = networks(
        f"{prefix}-mtu",
        "--subnet",
        str(subnet_factory()),
        "-o",
        "com.docker.network.driver.mtu=1400",
        "-o",
        "ip-masq=false",
        "-o",
        f"com.docker.network.bridge.name={quiet_bridge}",
    )
    masq = networks(
        f"{prefix}-masq",
        "--subnet",
        str(subnet_factory()),
        "-o",
        f"com.docker.network.bridge.name={bridges()}",
    )
    a, b = sandboxes(quiet.name), sandboxes(masq.name)
    assert ip_json(ns_name(a), "link", "show", "eth0")[0]["mtu"] == 1400
    assert ip_json(ns_name(b), "link", "show", "eth0")[0]["mtu"] == 1500
    with open(f"/sys/class/net/{quiet_bridge}/mtu") as fh:
        assert int(fh.read()) == 1400
    assert nat_rules_naming(quiet.name) == [], "ip-masq=false still masquerades"
    assert any("MASQUERADE" in r or "CNI-" in r for r in nat_rules_naming(masq.name)), (
        "the default network options should masquerade"
    )


def test_static_ipam_takes_the_address_given_per_attachment(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    subnet: IPv4Net,
    prefix: str,
    bridges: Callable[[], str],
    networks: Callable[..., Network],
    netns_factory: Callable[[], str],
) -> None:
    net = networks(
        f"{prefix}-st",
        "--ipam-driver",
        "static",
        "--subnet",
        str(subnet),
        "-o",
        f"com.docker.network.bridge.name={bridges()}",
    )
    wanted = [subnet.network_address + 9, subnet.network_address + 10]
    attach = [
        ("--args", f"IP={wanted[0]}/{subnet.prefixlen}"),
        ("--cap-args", json.dumps({"ips": [f"{wanted[1]}/{subnet.prefixlen}"]})),
    ]
    conf = load_file(net.file)
    runtime = CNI.from_settings(settings)
    attached: list[RuntimeConf] = []
    try:
        for i, (flag, value) in enumerate(attach):
            rt = RuntimeConf(container_id=f"{prefix}-c{i}", netns=netns_factory())
            done = ctrnet(
                settings, "cni", "add", net.name, rt.netns, "--container-id", rt.container_id,
                flag, value,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            attached.append(rt)
            ns = os.path.basename(rt.netns)
            assert [a.ip for a in addresses(ns)] == [wanted[i]]
            gw = [r.get("gateway") for r in ip_json(ns, "route", "show", "default")]
            assert gw == [str(subnet.network_address + 1)]
        assert ping(os.path.basename(attached[0].netns), wanted[1]).returncode == 0
    finally:
        for rt in reversed(attached):
            runtime.delete(conf, rt)


def make_vlan_network(
    networks: Callable[..., Network], name: str, driver: str, parent: str, mode: str, sub: IPv4Net
) -> Network:
    return networks(
        name, "-d", driver, "-o", f"parent={parent}", "-o", f"mode={mode}", "-o", "mtu=1400",
        "--subnet", str(sub),
    )  # fmt: skip


def check_vlan_traffic(boxes: list[Sandbox], driver: str, mode: str, subnet: IPv4Net) -> None:
    for box in boxes:
        link = ip_json(ns_name(box), "-d", "link", "show", "eth0")[0]
        info = link["linkinfo"]
        assert info["info_kind"] == driver  # type: ignore[index]
        assert info["info_data"]["mode"] == mode  # type: ignore[index]
        assert link["mtu"] == 1400
        assert [a.ip in subnet for a in addresses(ns_name(box))] == [True]
    peer = addresses(ns_name(boxes[1]))[0].ip
    done = ping(ns_name(boxes[0]), peer)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("mode", ["bridge", "private"])
def test_macvlan_on_a_parent_link_we_own(
    no_leftovers: Callable[[], list[str]],
    subnet: IPv4Net,
    prefix: str,
    parent_link: str,
    networks: Callable[..., Network],
    sandboxes: Callable[..., Sandbox],
    mode: str,
) -> None:
    net = make_vlan_network(networks, f"{prefix}-mv", "macvlan", parent_link, mode, subnet)
    boxes = [sandboxes(net.name), sandboxes(net.name)]
    if mode == "bridge":
        check_vlan_traffic(boxes, "macvlan", mode, subnet)
        return
    # private: children of one parent must not reach each other
    link = ip_json(ns_name(boxes[0]), "-d", "link", "show", "eth0")[0]
    assert link["linkinfo"]["info_data"]["mode"] == "private"  # type: ignore[index]
    peer = addresses(ns_name(boxes[1]))[0].ip
    assert ping(ns_name(boxes[0]), peer).returncode != 0


def test_ipvlan_on_a_parent_link_we_own(
    no_leftovers: Callable[[], list[str]],
    subnet: IPv4Net,
    prefix: str,
    parent_link: str,
    networks: Callable[..., Network],
    sandboxes: Callable[..., Sandbox],
) -> None:
    """Traffic where the kernel has ipvlan; where it has not, a clean, explained failure."""
    net = make_vlan_network(networks, f"{prefix}-iv", "ipvlan", parent_link, "l2", subnet)
    if kernel_has_ipvlan(parent_link):
        check_vlan_traffic([sandboxes(net.name), sandboxes(net.name)], "ipvlan", "l2", subnet)
        return
    with pytest.raises(CtrnetError) as err:
        sandboxes(net.name)
    assert "plugin 'ipvlan'" in str(err.value)
    assert host.leftovers(prefix) == sorted([f"link {prefix}p0", f"link {prefix}p1"])


@pytest.mark.parametrize(("driver", "mode"), [("macvlan", "l2"), ("ipvlan", "bridge")])
def test_macvlan_and_ipvlan_modes_are_validated(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    parent_link: str,
    driver: str,
    mode: str,
) -> None:
    done = ctrnet(
        settings, "network", "create", f"{prefix}-bad", "-d", driver,
        "-o", f"parent={parent_link}", "-o", f"mode={mode}",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"unknown {driver} mode {mode!r}" in done.stderr
    assert [f for f in os.listdir(settings.conf_dir) if f != ".nerdctl.lock"] == []


def test_dhcp_network_config_and_the_missing_daemon_hint(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    bridges: Callable[[], str],
    sandboxes: Callable[..., Sandbox],
) -> None:
    """No DHCP server runs here: only the config and the hint when the daemon is missing."""
    name = f"{prefix}-dhcp"
    bridge = bridges()
    done = ctrnet(
        settings, "network", "create", name, "--ipam-driver", "dhcp",
        "-o", f"com.docker.network.bridge.name={bridge}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    store = NetworkStore(settings)
    try:
        net = store.get(name)
        assert net.conflist is not None
        assert net.conflist.plugins[0].raw["ipam"] == {
            "daemonSocketPath": DHCP_SOCKET,
            "type": "dhcp",
        }
        daemon_running = os.path.exists(DHCP_SOCKET)
        hinted = f"Warning: the dhcp IPAM plugin needs its daemon, but {DHCP_SOCKET}"
        assert (hinted in done.stderr) is not daemon_running, done.stderr
        if not daemon_running:
            assert "dhcp daemon --socketpath=" in done.stderr
            with pytest.raises(CtrnetError) as err:
                sandboxes(name)
            assert "dhcp" in str(err.value) and DHCP_SOCKET in str(err.value)
            assert host.leftovers(prefix) == [f"link {bridge}"]  # the failed setup rolled back
    finally:
        store.remove(name)
    assert not os.path.exists(f"/sys/class/net/{bridge}")
