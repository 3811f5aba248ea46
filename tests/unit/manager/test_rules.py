"""The validation matrix (nerdctl section 4, with ctrnet's fixes) for Linux and Windows."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network

import pytest

from ctrnet._errors import NetworkNotFound, UnsupportedOption, ValidationError
from ctrnet.manager.modes import Mode, mode_of
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.rules import verify
from ctrnet.platform import get

LINUX = get("linux")
WINDOWS = get("windows")


@dataclass(frozen=True)
class Net:
    name: str
    first_plugin_type: str | None = "bridge"
    subnets: tuple[IPv4Network | IPv6Network, ...] = field(default=())
    error: str | None = None


def nets(*items: Net) -> dict[str, Net]:
    return {n.name: n for n in items}


STORE = nets(
    Net("bridge", subnets=(ipaddress.ip_network("10.4.0.0/24"),)),
    Net("n1", subnets=(ipaddress.ip_network("10.200.1.0/24"), ipaddress.ip_network("fd00:1::/64"))),
    Net("n2", subnets=(ipaddress.ip_network("10.200.2.0/24"),)),
    Net("mv", first_plugin_type="macvlan", subnets=(ipaddress.ip_network("10.200.3.0/24"),)),
    Net("iv", first_plugin_type="ipvlan", subnets=(ipaddress.ip_network("10.200.4.0/24"),)),
    Net("dh", first_plugin_type="bridge"),
    Net("broken", first_plugin_type=None, error="invalid JSON at line 3"),
    Net("nat", first_plugin_type="nat", subnets=(ipaddress.ip_network("10.4.0.0/24"),)),
    Net("nat2", first_plugin_type="nat"),
)


def lookup(ref: str) -> Net:
    try:
        return STORE[ref]
    except KeyError:
        raise NetworkNotFound(ref) from None


def run(platform: str = "linux", **kwargs: object) -> Mode:
    return verify(NetworkOptions.parse(**kwargs), get(platform), lookup)  # type: ignore[arg-type]


# --- modes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("networks", "kind", "refs"),
    [
        ([], "cni", ("bridge",)),
        (["none"], "none", ("none",)),
        (["host"], "host", ("host",)),
        (["bridge"], "cni", ("bridge",)),
        (["foo", "bar"], "cni", ("foo", "bar")),
        (["host", "host"], "host", ("host",)),
    ],
)
def test_mode_detection(networks: list[str], kind: str, refs: tuple[str, ...]) -> None:
    mode = mode_of(networks)
    assert (mode.kind, mode.refs) == (kind, refs)


@pytest.mark.parametrize(
    "networks", [["none", "host"], ["none", "bridge"], ["host", "foo"], ["container:a", "n1"]]
)
def test_mixed_modes_are_refused(networks: list[str]) -> None:
    with pytest.raises(ValidationError, match="mixed network modes") as info:
        mode_of(networks)
    assert "exactly one mode" in str(info.value)


def test_container_and_ns_targets() -> None:
    assert mode_of(["container:web"]).target == "web"
    assert mode_of(["ns:/run/netns/x"]).target == "/run/netns/x"
    assert mode_of(["ns:/run/netns/x"]).label_value() == ["ns:/run/netns/x"]
    with pytest.raises(
        ValidationError, match=re.escape("must be 'container:<id|name>', got: 'container:'")
    ):
        mode_of(["container:"])
    with pytest.raises(ValidationError, match="only one network specification"):
        mode_of(["container:a", "container:b"])
    with pytest.raises(ValidationError, match="unknown mode 'bogus'"):
        mode_of(["bogus:x"])


# --- Linux ----------------------------------------------------------------------------------------


def test_linux_default_network_and_interfaces() -> None:
    mode = run(networks=["n1", "n2"])
    assert mode.kind == "cni"
    assert [(a.network.name, a.ifname) for a in mode.attachments] == [
        ("n1", "eth0"),
        ("n2", "eth1"),
    ]
    assert mode.label_value() == ["n1", "n2"]
    assert run().network_names == ("bridge",)


def test_linux_unknown_or_broken_networks_fail_at_verify() -> None:
    with pytest.raises(NetworkNotFound, match="'nope'"):
        run(networks=["n1", "nope"])
    with pytest.raises(ValidationError, match="'broken' cannot be used: invalid JSON"):
        run(networks=["broken"])


def test_linux_ip_goes_only_to_the_network_holding_it() -> None:
    mode = run(networks=["n1", "n2"], ip="10.200.2.7", ip6="fd00:1::7")
    assert [(a.network.name, a.ip, a.ip6) for a in mode.attachments] == [
        ("n1", None, "fd00:1::7"),
        ("n2", "10.200.2.7", None),
    ]


def test_linux_ip_outside_every_subnet_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        run(networks=["n1", "n2"], ip="192.0.0.2")
    assert info.value.option == "--ip"
    assert "192.0.0.2 is not inside a subnet" in str(info.value)
    assert "n1 (10.200.1.0/24 fd00:1::/64), n2 (10.200.2.0/24)" in str(info.value)
    with pytest.raises(ValidationError, match="--ip6 2001:db8:4::6"):
        run(networks=["n1"], ip6="2001:db8:4::6")


def test_linux_ip_on_network_with_unknown_subnets_goes_there() -> None:
    mode = run(networks=["n2", "dh"], ip="172.16.0.5")
    assert [a.ip for a in mode.attachments] == [None, "172.16.0.5"]


@pytest.mark.parametrize("network", ["bridge", "n1", "mv"])
def test_linux_mac_on_bridge_and_macvlan(network: str) -> None:
    mode = run(networks=[network], mac_address="02:42:ac:11:00:02")
    assert mode.attachments[0].mac == "02:42:ac:11:00:02"


def test_linux_mac_on_ipvlan_is_refused() -> None:
    with pytest.raises(
        UnsupportedOption,
        match=r"not supported for --mac-address on network 'iv', must be one of: \[bridge macvlan\]",
    ):
        run(networks=["n1", "iv"], mac_address="02:42:ac:11:00:02")


@pytest.mark.parametrize("networks", [[], ["host"], ["none"], ["ns:/run/netns/x"]])
def test_linux_hostname_with_uts_host_is_refused(networks: list[str]) -> None:
    with pytest.raises(
        ValidationError, match="cannot set --hostname and/or --domainname with --uts=host"
    ):
        run(networks=networks, hostname="web", uts="host")
    with pytest.raises(ValidationError, match="--uts=host") as info:
        run(networks=networks, domainname="example.com", uts="host")
    assert info.value.option == "--domainname"
    assert run(networks=networks, uts="host").kind in ("cni", "host", "none", "ns")


@pytest.mark.parametrize("kind", ["host", "none", "ns:/run/netns/x"])
def test_linux_host_none_ns_accept_unusable_flags_with_warnings(kind: str) -> None:
    mode = run(
        networks=[kind],
        publish=["8080:80"],
        ip="10.200.1.5",
        mac_address="02:42:ac:11:00:02",
        dns=["10.0.0.2"],
        add_host=["a:1.2.3.4"],
        hostname="web",
    )
    assert mode.attachments == ()
    assert mode.warnings == (
        f"--ip is ignored with --network {kind}",
        f"--mac-address is ignored with --network {kind}",
        f"--publish is ignored with --network {kind}",
    )


def test_linux_container_mode_refuses_its_flags_in_one_error() -> None:
    with pytest.raises(ValidationError) as info:
        run(
            networks=["container:web"],
            hostname="x",
            publish=["80"],
            dns=["10.0.0.2"],
            add_host=["a:1.2.3.4"],
            domainname="example.com",
        )
    assert str(info.value) == (
        "conflicting options: the following arguments are not supported when using "
        "`--network=container:<container>`: [--hostname --domainname --publish --dns --add-host]"
    )


def test_linux_container_mode_accepts_and_warns() -> None:
    mode = run(networks=["container:web"], dns_search=["a.example"], ip="10.200.1.5", uts="host")
    assert mode.kind == "container" and mode.target == "web"
    assert mode.warnings == (
        "--ip is ignored with --network container:web",
        "--dns-search is ignored with --network container:web",
    )
    assert mode.label_value() == ["container:web"]


def test_linux_same_network_twice_by_different_refs() -> None:
    def aliasing(ref: str) -> Net:
        return STORE["n1"] if ref in ("n1", "abcdef") else lookup(ref)

    with pytest.raises(ValidationError, match="'n1' is given twice"):
        verify(NetworkOptions(networks=("n1", "abcdef")), LINUX, aliasing)


def test_linux_cni_accepts_everything_else() -> None:
    mode = run(
        networks=["n1"],
        publish=["8080:80", "53/udp"],
        dns=["10.0.0.2"],
        dns_search=["a.example"],
        dns_options=["ndots:2"],
        add_host=["a:1.2.3.4"],
        hostname="web",
        domainname="example.com",
    )
    assert mode.kind == "cni" and mode.warnings == ()


# --- Windows --------------------------------------------------------------------------------------


def test_windows_default_is_nat_and_ports_are_allowed() -> None:
    mode = run("windows", publish=["8080:80"])
    assert mode.network_names == ("nat",)
    assert run("windows", networks=["nat", "nat2"]).network_names == ("nat", "nat2")


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ("host", "cannot use host networking on Windows"),
        ("container:web", "container networking mode is currently only supported on Linux"),
        ("ns:/x", "only supported on Linux"),
    ],
)
def test_windows_refuses_host_and_container_modes(network: str, message: str) -> None:
    with pytest.raises(UnsupportedOption, match=message):
        run("windows", networks=[network])


def test_windows_refuses_every_unsupported_flag_in_one_stable_message() -> None:
    with pytest.raises(UnsupportedOption) as info:
        run(
            "windows",
            add_host=["a:1.2.3.4"],
            dns=["10.0.0.2"],
            domainname="example.com",
            dns_search=["a.example"],
            mac_address="02:42:ac:11:00:02",
            dns_options=["ndots:2"],
            ip="10.4.0.5",
            uts="host",
            hostname="web",
        )
    assert str(info.value) == (
        "the following networking arguments are not supported on Windows: [--hostname --uts --ip "
        "--mac-address --dns-opt --dns --dns-search --add-host --domainname]"
    )
    with pytest.raises(UnsupportedOption) as one:
        run("windows", dns=["10.0.0.2"])
    assert str(one.value).endswith(": [--dns]")


def test_windows_networks_must_exist_and_be_nat() -> None:
    with pytest.raises(NetworkNotFound):
        run("windows", networks=["missing"])
    with pytest.raises(
        UnsupportedOption, match="network 'n1' has type 'bridge', which is not supported on Windows"
    ):
        run("windows", networks=["nat", "n1"])
