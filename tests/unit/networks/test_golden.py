"""The generated conflists, compared with what nerdctl writes (defects fixed where noted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctrnet.networks import NetworkCreateOptions, NetworkStore

BRIDGE_ID = "17f29b073143d8cd97b5bbe492bdeffec1c5fee55cc1fe2112c8b9335f8b6121"
NAT_ID = "d919a100ce6b45524d415d52d088d5817587c6dd8c3691b03b8063c44d043523"
FOO_ID = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


def _file(store: NetworkStore, name: str) -> dict[str, Any]:
    text = Path(store.settings.conf_dir, f"nerdctl-{name}.conflist").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _bridge_chain(bridge: str, ipam: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": "bridge",
            "bridge": bridge,
            "isGateway": True,
            "ipMasq": True,
            "hairpinMode": True,
            "ipam": ipam,
        },
        {"type": "portmap", "capabilities": {"portMappings": True}},
        {"type": "firewall", "ingressPolicy": "same-bridge"},
        {"type": "tuning"},
    ]


def test_default_linux_network_is_what_nerdctl_writes(
    make_store: Callable[..., NetworkStore],
) -> None:
    store = make_store(default_subnet="10.4.0.0/24", default_bridge="nerdctl0")
    net = store.ensure_default()
    path = Path(store.settings.conf_dir, "nerdctl-bridge.conflist")
    expected = (
        '{\n  "cniVersion": "1.0.0",\n  "name": "bridge",\n'
        f'  "nerdctlID": "{BRIDGE_ID}",\n'
        '  "nerdctlLabels": {\n    "nerdctl/default-network": "true"\n  },\n  "plugins": [\n'
        '    {\n      "type": "bridge",\n      "bridge": "nerdctl0",\n      "isGateway": true,\n'
        '      "ipMasq": true,\n      "hairpinMode": true,\n      "ipam": {\n'
        '        "ranges": [\n          [\n            {\n'
        '              "gateway": "10.4.0.1",\n              "subnet": "10.4.0.0/24"\n'
        "            }\n          ]\n        ],\n"
        '        "routes": [\n          {\n            "dst": "0.0.0.0/0"\n          }\n        ],\n'
        '        "type": "host-local"\n      }\n    },\n'
        '    {\n      "type": "portmap",\n      "capabilities": {\n        "portMappings": true\n'
        "      }\n    },\n"
        '    {\n      "type": "firewall",\n      "ingressPolicy": "same-bridge"\n    },\n'
        '    {\n      "type": "tuning"\n    }\n  ]\n}'
    )
    assert path.read_text() == expected
    assert (net.name, net.id, net.is_default, net.managed) == ("bridge", BRIDGE_ID, True, True)
    assert path.stat().st_mode & 0o777 == 0o644


def test_default_windows_network_fixes_nerdctl_defects(
    make_store: Callable[..., NetworkStore],
) -> None:
    store = make_store("windows")
    net = store.ensure_default()
    assert _file(store, "nat") == {
        "cniVersion": "1.0.0",
        "name": "nat",
        "nerdctlID": NAT_ID,
        "nerdctlLabels": {"nerdctl/default-network": "true"},
        "plugins": [
            {
                "type": "nat",
                "master": "Ethernet",
                # "gw" (nerdctl writes "gateway", which the plugin ignores)
                "ipam": {"routes": [{"gw": "10.4.0.1"}], "subnet": "10.4.0.0/24", "type": ""},
                # nerdctl omits these, so published ports never reach the plugin
                "capabilities": {"portMappings": True, "dns": True},
            }
        ],
    }
    assert net.driver == "nat"
    assert [str(g) for g in net.gateways] == ["10.4.0.1"]


def test_windows_nat_network_with_gateway(make_store: Callable[..., NetworkStore]) -> None:
    store = make_store("windows")
    store.create(
        NetworkCreateOptions(name="foo", subnets=("10.9.0.0/16",), gateways=("10.9.0.254",))
    )
    assert _file(store, "foo")["plugins"][0]["ipam"] == {
        "routes": [{"gw": "10.9.0.254"}],
        "subnet": "10.9.0.0/16",
        "type": "",
    }


def test_bridge_network_with_auto_subnet(store: NetworkStore) -> None:
    net = store.create(NetworkCreateOptions(name="foo", labels={"a": "b"}))
    assert _file(store, "foo") == {
        "cniVersion": "1.0.0",
        "name": "foo",
        "nerdctlID": FOO_ID,
        "nerdctlLabels": {"a": "b"},
        "plugins": _bridge_chain(
            "br-2c26b46b68ff",
            {
                "ranges": [[{"gateway": "10.4.1.1", "subnet": "10.4.1.0/24"}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "type": "host-local",
            },
        ),
    }
    assert net.short_id == "2c26b46b68ff"


def test_bridge_options_mtu_masq_icc_and_name(store: NetworkStore) -> None:
    store.create(
        NetworkCreateOptions(
            name="foo",
            subnets=("10.200.1.0/24",),
            options={
                "com.docker.network.driver.mtu": "1400",
                "ip-masq": "false",
                "com.docker.network.bridge.enable_icc": "false",
                "com.docker.network.bridge.name": "mybr0",
            },
        )
    )
    plugins = _file(store, "foo")["plugins"]
    assert plugins[0] == {
        "type": "bridge",
        "bridge": "mybr0",
        "isGateway": True,
        "mtu": 1400,
        "hairpinMode": True,
        "ipam": {
            "ranges": [[{"gateway": "10.200.1.1", "subnet": "10.200.1.0/24"}]],
            "routes": [{"dst": "0.0.0.0/0"}],
            "type": "host-local",
        },
    }
    assert plugins[2] == {"type": "firewall", "ingressPolicy": "isolated"}


def test_internal_bridge_has_no_gateway_masquerade_portmap_or_route(store: NetworkStore) -> None:
    net = store.create(NetworkCreateOptions(name="foo", subnets=("10.200.1.0/24",), internal=True))
    assert _file(store, "foo")["plugins"] == [
        {
            "type": "bridge",
            "bridge": "br-2c26b46b68ff",
            "hairpinMode": True,
            "ipam": {
                "ranges": [[{"gateway": "10.200.1.1", "subnet": "10.200.1.0/24"}]],
                "type": "host-local",
            },
        },
        {"type": "firewall", "ingressPolicy": "same-bridge"},
        {"type": "tuning"},
    ]
    assert net.internal


def test_dual_stack_with_gateways_and_ranges_matched_by_containment(store: NetworkStore) -> None:
    store.create(
        NetworkCreateOptions(
            name="foo",
            subnets=("fd00:1::/64", "10.1.0.0/16"),
            gateways=("10.1.0.254", "fd00:1::fe"),
            ip_ranges=("10.1.100.0/24",),
            ipv6=True,
        )
    )
    main = _file(store, "foo")["plugins"][0]
    assert main["ipam"] == {
        "ranges": [
            [{"gateway": "fd00:1::fe", "subnet": "fd00:1::/64"}],
            [
                {
                    "gateway": "10.1.0.254",
                    "ipRange": "10.1.100.0/24",
                    "rangeEnd": "10.1.100.255",
                    "rangeStart": "10.1.100.1",
                    "subnet": "10.1.0.0/16",
                }
            ],
        ],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
        "type": "host-local",
    }
    assert main["capabilities"] == {"ips": True}


def test_ipv6_only_subnet_gets_an_ipv4_subnet_from_the_pool(store: NetworkStore) -> None:
    net = store.create(NetworkCreateOptions(name="foo", subnets=("fd00:2::/64",), ipv6=True))
    assert [str(s) for s in net.subnets] == ["10.4.1.0/24", "fd00:2::/64"]


def test_ip_range_ending_at_the_broadcast_address_stops_before_it(store: NetworkStore) -> None:
    store.create(
        NetworkCreateOptions(name="foo", subnets=("10.1.100.0/23",), ip_ranges=("10.1.101.0/24",))
    )
    rng = _file(store, "foo")["plugins"][0]["ipam"]["ranges"][0][0]
    assert (rng["rangeStart"], rng["rangeEnd"]) == ("10.1.101.1", "10.1.101.254")


def test_macvlan_network(store: NetworkStore) -> None:
    store.create(
        NetworkCreateOptions(
            name="foo",
            driver="macvlan",
            subnets=("192.0.2.0/24",),  # the parent's LAN: host routes do not block macvlan
            options={"parent": "eth0", "macvlan_mode": "bridge", "mtu": "1500"},
        )
    )
    assert _file(store, "foo")["plugins"] == [
        {
            "type": "macvlan",
            "master": "eth0",
            "mode": "bridge",
            "mtu": 1500,
            "ipam": {
                "ranges": [[{"gateway": "192.0.2.1", "subnet": "192.0.2.0/24"}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "type": "host-local",
            },
        }
    ]


def test_ipvlan_network_with_dhcp(store: NetworkStore) -> None:
    net = store.create(
        NetworkCreateOptions(
            name="foo", driver="ipvlan", ipam_driver="dhcp", options={"ipvlan_mode": "l2"}
        )
    )
    assert _file(store, "foo")["plugins"] == [
        {
            "type": "ipvlan",
            "master": "",
            "mode": "l2",
            "ipam": {"daemonSocketPath": "/run/cni/dhcp.sock", "type": "dhcp"},
        }
    ]
    assert net.subnets == ()


def test_static_ipam_takes_addresses_per_attachment(store: NetworkStore) -> None:
    net = store.create(
        NetworkCreateOptions(name="foo", ipam_driver="static", subnets=("10.200.3.0/24",))
    )
    main = _file(store, "foo")["plugins"][0]
    assert main["ipam"] == {
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.200.3.1"}],
        "subnets": ["10.200.3.0/24"],
        "type": "static",
    }
    assert main["capabilities"] == {"ips": True}
    assert [str(s) for s in net.subnets] == ["10.200.3.0/24"]
