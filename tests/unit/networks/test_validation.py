"""Every refusal of ``network create``: the message names the bad input, nothing is written."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable

import pytest

from ctrnet._errors import (
    ConflictError,
    NetworkExists,
    SubnetConflict,
    UnsupportedOption,
    ValidationError,
)
from ctrnet.networks import NetworkCreateOptions, NetworkStore
from ctrnet.networks.subnets import UsedSubnet, parse_pool

CASES: list[tuple[str, dict[str, object], str]] = [
    ("bad name", {"name": "-x"}, "malformed network name '-x'"),
    ("long name", {"name": "a" * 77}, "longer than 76 characters"),
    ("pseudo name", {"name": "host"}, "reserved for the network mode"),
    ("default name", {"name": "bridge"}, "reserved for the default network"),
    (
        "driver",
        {"driver": "overlay"},
        "unsupported network driver 'overlay' on linux; choose one of: bridge, macvlan, ipvlan",
    ),
    (
        "option",
        {"options": {"foo": "1"}},
        "unsupported option 'foo' for the bridge driver; allowed: ",
    ),
    (
        "other driver's mode",
        {"driver": "macvlan", "options": {"ipvlan_mode": "l2"}},
        "unsupported option 'ipvlan_mode' for the macvlan driver",
    ),
    (
        "macvlan mode",
        {"driver": "macvlan", "options": {"mode": "l2"}},
        "unknown macvlan mode 'l2' (option mode); choose one of: bridge, private, vepa, passthru",
    ),
    (
        "ipvlan mode",
        {"driver": "ipvlan", "options": {"mode": "bridge"}},
        "unknown ipvlan mode 'bridge' (option mode); choose one of: l2, l3, l3s",
    ),
    ("mtu", {"options": {"mtu": "-1"}}, "option mtu='-1' is not a valid MTU"),
    (
        "mtu text",
        {"options": {"com.docker.network.driver.mtu": "big"}},
        "option com.docker.network.driver.mtu='big' is not a valid MTU",
    ),
    ("bool", {"options": {"ip-masq": "maybe"}}, "option ip-masq='maybe' is not a boolean"),
    (
        "bridge name",
        {"options": {"com.docker.network.bridge.name": "way-too-long-bridge"}},
        "com.docker.network.bridge.name 'way-too-long-bridge' is not a valid interface name",
    ),
    (
        "parent",
        {"driver": "macvlan", "options": {"parent": "a b"}},
        "parent 'a b' is not a valid interface name",
    ),
    (
        "ipam driver",
        {"ipam_driver": "whereabouts"},
        "unsupported --ipam-driver 'whereabouts' on linux; choose one of: default, host-local, static, dhcp",
    ),
    ("ipam opt", {"ipam_options": {"x": "y"}}, "--ipam-opt is not supported (got x)"),
    (
        "gateway without subnet",
        {"gateways": ("10.1.0.1",)},
        "cannot set --gateway or --ip-range without --subnet",
    ),
    (
        "range without subnet",
        {"ip_ranges": ("10.1.0.0/25",)},
        "cannot set --gateway or --ip-range without --subnet",
    ),
    (
        "not a cidr",
        {"subnets": ("10.1.0.0/33",)},
        "invalid --subnet '10.1.0.0/33': expected a CIDR",
    ),
    ("no prefix", {"subnets": ("10.1.0.0",)}, "the prefix length is missing, e.g. 10.1.0.0/24"),
    (
        "host bits",
        {"subnets": ("10.5.0.1/16",)},
        "--subnet 10.5.0.1/16 is not a network address; did you mean 10.5.0.0/16?",
    ),
    ("ipv6 without flag", {"subnets": ("fd00::/64",)}, "--subnet fd00::/64 is IPv6; add --ipv6"),
    (
        "gateway outside",
        {"subnets": ("10.1.100.0/24",), "gateways": ("10.1.10.100",)},
        "--gateway 10.1.10.100 is not inside any --subnet (10.1.100.0/24)",
    ),
    (
        "gateway /23",
        {"subnets": ("10.1.100.0/23",), "gateways": ("10.1.102.1",)},
        "--gateway 10.1.102.1 is not inside any --subnet (10.1.100.0/23)",
    ),
    (
        "gateway is network",
        {"subnets": ("10.1.100.0/24",), "gateways": ("10.1.100.0",)},
        "--gateway 10.1.100.0 is the network or broadcast address of 10.1.100.0/24",
    ),
    (
        "bad gateway",
        {"subnets": ("10.1.100.0/24",), "gateways": ("gw",)},
        "invalid --gateway 'gw': expected an IP address",
    ),
    (
        "two gateways",
        {"subnets": ("10.1.0.0/24",), "gateways": ("10.1.0.1", "10.1.0.2")},
        "subnet 10.1.0.0/24 has two gateways, 10.1.0.1 and 10.1.0.2",
    ),
    (
        "range outside",
        {"subnets": ("10.1.0.0/24",), "ip_ranges": ("10.2.0.0/25",)},
        "--ip-range 10.2.0.0/25 is not inside any --subnet (10.1.0.0/24)",
    ),
    (
        "range bigger",
        {"subnets": ("10.1.0.0/24",), "ip_ranges": ("10.1.0.0/16",)},
        "--ip-range 10.1.0.0/16 is not inside any --subnet",
    ),
    (
        "two ranges",
        {"subnets": ("10.1.0.0/24",), "ip_ranges": ("10.1.0.0/25", "10.1.0.128/25")},
        "subnet 10.1.0.0/24 has two ip-ranges",
    ),
    (
        "subnets overlap",
        {"subnets": ("10.1.0.0/16", "10.1.2.0/24"), "internal": True},
        "--subnet 10.1.2.0/24 overlaps --subnet 10.1.0.0/16",
    ),
    (
        "two IPv4 gateways on one bridge",
        {"subnets": ("10.1.0.0/24", "10.1.2.0/24")},
        "a bridge network takes one IPv4 --subnet, got 10.1.0.0/24, 10.1.2.0/24",
    ),
    (
        "host route",
        {"subnets": ("192.0.2.0/25",)},
        "subnet 192.0.2.0/25 overlaps 192.0.2.0/24 used by host route 192.0.2.0/24 dev eth0; choose a free --subnet",
    ),
    (
        "internal macvlan",
        {"driver": "macvlan", "internal": True},
        "--internal is only supported by the bridge driver, not macvlan",
    ),
    (
        "dhcp subnet",
        {"ipam_driver": "dhcp", "subnets": ("10.1.0.0/24",)},
        "--subnet cannot be used with --ipam-driver dhcp",
    ),
    ("empty label", {"labels": {"": "x"}}, "label keys must not be empty"),
]


@pytest.mark.parametrize(("what", "fields", "message"), CASES, ids=[c[0] for c in CASES])
def test_refused_with_a_message_naming_the_input(
    store: NetworkStore, what: str, fields: dict[str, object], message: str
) -> None:
    opts = NetworkCreateOptions(**{"name": "foo", **fields})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        store.create(opts)
    assert message in str(info.value)
    assert info.value.exit_code == 2
    assert os.listdir(store.settings.conf_dir) in ([], [".nerdctl.lock"])


WINDOWS: list[tuple[dict[str, object], str]] = [
    ({"driver": "bridge"}, "unsupported network driver 'bridge' on windows; choose one of: nat"),
    ({"ipv6": True}, "the nat driver supports IPv4 only"),
    ({"subnets": ("10.1.0.0/24", "10.2.0.0/24")}, "the nat driver takes one --subnet"),
    ({"subnets": ("10.1.0.0/24",), "ip_ranges": ("10.1.0.0/25",)}, "does not support --ip-range"),
    ({"options": {"mtu": "1400"}}, "unsupported option 'mtu' for the nat driver; allowed: none"),
    (
        {"ipam_driver": "dhcp"},
        "unsupported --ipam-driver 'dhcp' on windows; choose one of: default",
    ),
]


@pytest.mark.parametrize(("fields", "message"), WINDOWS)
def test_windows_refusals(
    make_store: Callable[..., NetworkStore], fields: dict[str, object], message: str
) -> None:
    store = make_store("windows")
    with pytest.raises(UnsupportedOption, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.create(NetworkCreateOptions(**{"name": "foo", **fields}))  # type: ignore[arg-type]


def test_overlap_with_an_existing_network_names_it(store: NetworkStore) -> None:
    store.create(NetworkCreateOptions(name="one", subnets=("10.200.8.0/22",)))
    with pytest.raises(SubnetConflict) as info:
        store.create(NetworkCreateOptions(name="two", subnets=("10.200.9.0/24",)))
    assert "overlaps 10.200.8.0/22 used by network 'one' (nerdctl-one.conflist)" in str(info.value)
    assert info.value.other == "network 'one' (nerdctl-one.conflist)"


def test_duplicate_name_is_refused(store: NetworkStore) -> None:
    store.create(NetworkCreateOptions(name="one"))
    with pytest.raises(NetworkExists, match="network 'one' already exists"):
        store.create(NetworkCreateOptions(name="one"))


def test_bridge_name_used_by_another_network_is_refused(store: NetworkStore) -> None:
    store.create(
        NetworkCreateOptions(name="one", options={"com.docker.network.bridge.name": "xbr0"})
    )
    with pytest.raises(ConflictError, match="bridge xbr0 is already used by network 'one'"):
        store.create(
            NetworkCreateOptions(name="two", options={"com.docker.network.bridge.name": "xbr0"})
        )


def test_bridge_name_of_an_existing_host_link_is_refused(store: NetworkStore) -> None:
    with pytest.raises(ConflictError, match="a link named lo already exists on the host"):
        store.create(
            NetworkCreateOptions(name="one", options={"com.docker.network.bridge.name": "lo"})
        )


def test_missing_plugin_is_reported_before_writing(make_store: Callable[..., NetworkStore]) -> None:
    store = make_store(cni_path=("/nonexistent",))
    with pytest.raises(Exception, match="CNI plugin 'bridge' not found in /nonexistent"):
        store.create(NetworkCreateOptions(name="one"))
    assert not any(f.endswith(".conflist") for f in os.listdir(store.settings.conf_dir))


def test_default_subnet_taken_on_the_host_says_how_to_choose_another(
    make_store: Callable[..., NetworkStore],
) -> None:
    taken = [UsedSubnet(ipaddress.ip_network("10.4.0.0/16"), "host address 10.4.0.5/16 on wlan0")]
    store = make_store(host=taken, default_subnet="10.4.0.0/24")
    with pytest.raises(SubnetConflict) as info:
        store.ensure_default()
    text = str(info.value)
    assert "cannot create the default network 'bridge': its subnet 10.4.0.0/24" in text
    assert "host address 10.4.0.5/16 on wlan0" in text
    assert "CTRNET_DEFAULT_SUBNET" in text


@pytest.mark.parametrize(
    ("spec", "message"),
    [("nonsense", "invalid subnet pool 'nonsense'"), ("10.0.0.0/24:16", "the subnet size /16")],
)
def test_bad_pool_is_refused(spec: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_pool(spec)
