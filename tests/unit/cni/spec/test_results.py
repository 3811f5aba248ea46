"""Parsing and writing results of each SPEC version: the wire shape, and strict rejection."""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Interface
from typing import Any

import pytest

from ctrnet._errors import IncompatibleVersion, InvalidConfig, InvalidResult
from ctrnet.cni.spec import (
    DNS,
    Interface,
    IPConfig,
    Result,
    Result020,
    Result040,
    Route,
    parse_result,
)

RESULT_110: dict[str, Any] = {
    "cniVersion": "1.1.0",
    "interfaces": [
        {"name": "cni0", "mac": "0a:58:0a:c8:00:01"},
        {"name": "veth1a2b", "mac": "7e:1c:00:00:00:01", "mtu": 1500},
        {
            "name": "eth0",
            "mac": "0a:58:0a:c8:00:05",
            "mtu": 1450,
            "sandbox": "/run/netns/t1",
            "socketPath": "/run/vhost.sock",
            "pciID": "0000:00:1f.6",
        },
    ],
    "ips": [
        {"interface": 2, "address": "10.200.0.5/24", "gateway": "10.200.0.1"},
        {"interface": 2, "address": "fd00:10::5/64", "gateway": "fd00:10::1"},
    ],
    "routes": [
        {"dst": "0.0.0.0/0", "gw": "10.200.0.1", "mtu": 1400, "advmss": 1360, "priority": 100},
        {"dst": "10.201.0.0/16", "table": 100, "scope": 253},
        {"dst": "::/0"},
    ],
    "dns": {
        "nameservers": ["10.200.0.1", "fd00:10::1"],
        "domain": "example.test",
        "search": ["example.test"],
        "options": ["ndots:2"],
    },
}

RESULT_040: dict[str, Any] = {
    "cniVersion": "0.4.0",
    "interfaces": [{"name": "eth0", "mac": "0a:58:0a:c8:00:05", "sandbox": "/run/netns/t1"}],
    "ips": [
        {"version": "4", "interface": 0, "address": "10.200.0.5/24", "gateway": "10.200.0.1"},
        {"version": "6", "address": "fd00:10::5/64"},
    ],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.200.0.1"}],
    "dns": {"nameservers": ["10.200.0.1"]},
}

RESULT_020: dict[str, Any] = {
    "cniVersion": "0.2.0",
    "ip4": {
        "ip": "10.200.0.5/24",
        "gateway": "10.200.0.1",
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.200.0.1"}, {"dst": "10.201.0.0/16"}],
    },
    "ip6": {"ip": "fd00:10::5/64", "routes": [{"dst": "::/0"}]},
    "dns": {"nameservers": ["10.200.0.1"], "search": ["a.test", "b.test"]},
}


def with_version(data: dict[str, Any], version: str) -> dict[str, Any]:
    return {**data, "cniVersion": version}


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_1x_round_trips_and_models_every_field(version: str) -> None:
    data = with_version(RESULT_110, version)
    result = parse_result(json.dumps(data).encode())
    assert isinstance(result, Result)
    assert result.to_dict() == data
    assert parse_result(result.to_bytes()) == result
    eth0 = result.interfaces[2]
    assert (eth0.name, eth0.mtu, eth0.sandbox, eth0.socket_path, eth0.pci_id) == (
        "eth0",
        1450,
        "/run/netns/t1",
        "/run/vhost.sock",
        "0000:00:1f.6",
    )
    assert result.ips[0].address == IPv4Interface("10.200.0.5/24")
    assert result.ips[0].gateway == IPv4Address("10.200.0.1")
    assert result.ips[1].address == IPv6Interface("fd00:10::5/64")
    assert result.interface_of(result.ips[0]) is eth0
    r0, r1 = result.routes[:2]
    assert (r0.dst, r0.mtu, r0.advmss, r0.priority) == (IPv4Network("0.0.0.0/0"), 1400, 1360, 100)
    assert (r1.table, r1.scope, r1.gw) == (100, 253, None)
    assert result.dns.nameservers == ("10.200.0.1", "fd00:10::1")
    assert result.dns.options == ("ndots:2",)


@pytest.mark.parametrize("version", ["0.3.0", "0.3.1", "0.4.0"])
def test_040_round_trips_with_ip_version_field(version: str) -> None:
    data = with_version(RESULT_040, version)
    result = parse_result(data)
    assert isinstance(result, Result040)
    assert result.cni_version == version
    assert result.to_dict() == data
    assert [ip.version for ip in result.ips] == ["4", "6"]
    assert result.ips[0].interface == 0 and result.ips[1].interface is None


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
def test_020_round_trips(version: str) -> None:
    data = with_version(RESULT_020, version)
    result = parse_result(json.dumps(data))
    assert isinstance(result, Result020)
    assert result.to_dict() == data
    assert result.ip4 is not None and result.ip6 is not None
    assert [str(r.dst) for r in result.ip4.routes] == ["0.0.0.0/0", "10.201.0.0/16"]


def test_output_matches_the_go_plugins_byte_for_byte() -> None:
    # What /usr/lib/cni/host-local (v1.1.1) prints, compacted: dns is always present.
    wire = (
        b'{"cniVersion":"1.0.0","ips":[{"address":"10.207.250.4/24","gateway":"10.207.250.1"}],'
        b'"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}'
    )
    assert parse_result(wire).to_bytes() == wire
    wire040 = (
        b'{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.207.250.3/24",'
        b'"gateway":"10.207.250.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}'
    )
    assert parse_result(wire040).to_bytes() == wire040
    wire020 = (
        b'{"cniVersion":"0.2.0","ip4":{"ip":"10.207.250.2/24","gateway":"10.207.250.1",'
        b'"routes":[{"dst":"0.0.0.0/0"}]},"dns":{}}'
    )
    assert parse_result(wire020).to_bytes() == wire020


def test_built_result_writes_spec_json() -> None:
    result = Result(
        "1.1.0",
        interfaces=[Interface("eth0", sandbox="/run/netns/x")],
        ips=[IPConfig(IPv4Interface("10.200.1.2/24"), IPv4Address("10.200.1.1"), 0)],
        routes=[Route(IPv4Network("0.0.0.0/0"), IPv4Address("10.200.1.1"))],
        dns=DNS(nameservers=("127.0.0.1",)),
    )
    assert json.loads(result.to_bytes()) == {
        "cniVersion": "1.1.0",
        "interfaces": [{"name": "eth0", "sandbox": "/run/netns/x"}],
        "ips": [{"interface": 0, "address": "10.200.1.2/24", "gateway": "10.200.1.1"}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.200.1.1"}],
        "dns": {"nameservers": ["127.0.0.1"]},
    }


def test_unknown_keys_survive_a_round_trip_at_every_level() -> None:
    data = with_version(RESULT_110, "1.0.0")
    data["x-top"] = {"a": 1}
    data["interfaces"] = [{"name": "eth0", "x-if": True}]
    data["ips"] = [{"address": "10.200.0.5/24", "x-ip": "v"}]
    data["routes"] = [{"dst": "0.0.0.0/0", "x-rt": [1]}]
    data["dns"] = {"x-dns": "y"}
    assert parse_result(data).to_dict() == data
    legacy = with_version(RESULT_020, "0.2.0")
    legacy["ip4"] = {**legacy["ip4"], "x-ip4": 1}
    assert parse_result(legacy).to_dict() == legacy


def test_missing_version_is_010_unless_the_caller_says_otherwise() -> None:
    bare = {"ip4": {"ip": "10.200.0.5/24"}}
    assert parse_result(bare).cni_version == "0.1.0"
    assert parse_result({**bare, "cniVersion": ""}).cni_version == "0.1.0"
    fixed = parse_result({"ips": [{"address": "10.200.0.5/24"}]}, "1.0.0")
    assert isinstance(fixed, Result) and fixed.cni_version == "1.0.0"
    assert fixed.to_dict()["cniVersion"] == "1.0.0"


def test_the_datas_own_version_wins_over_the_fallback() -> None:
    result = parse_result(with_version(RESULT_040, "0.4.0"), "1.0.0")
    assert isinstance(result, Result040)


def test_route_destination_host_bits_are_cleared() -> None:
    result = parse_result({"cniVersion": "1.0.0", "routes": [{"dst": "10.201.3.4/16"}]})
    assert isinstance(result, Result)
    assert str(result.routes[0].dst) == "10.201.0.0/16"


def test_interface_index_out_of_range_is_kept_but_resolves_to_none() -> None:
    result = parse_result(
        {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/8", "interface": 3}]}
    )
    assert isinstance(result, Result)
    assert result.ips[0].interface == 3
    assert result.interface_of(result.ips[0]) is None


def test_unsupported_version_raises_incompatible_version() -> None:
    for v in ("0.5.0", "2.0.0"):
        with pytest.raises(IncompatibleVersion, match=re.escape(repr(v))):
            parse_result({"cniVersion": v})
    with pytest.raises(InvalidConfig, match="not a version"):
        parse_result({"cniVersion": "new"})


def test_model_class_refuses_a_version_of_another_family() -> None:
    with pytest.raises(IncompatibleVersion):
        Result.from_dict(with_version(RESULT_040, "0.4.0"))
    with pytest.raises(IncompatibleVersion):
        Result040.from_dict(with_version(RESULT_110, "1.0.0"))
    with pytest.raises(IncompatibleVersion):
        Result020.from_dict(with_version(RESULT_110, "1.0.0"))


BAD_1X = [
    ({"interfaces": {"name": "eth0"}}, "interfaces", "must be a list"),
    ({"interfaces": [{"mac": "aa"}]}, "interfaces[0].name", "required"),
    ({"interfaces": [{"name": 7}]}, "interfaces[0].name", "must be a string"),
    ({"interfaces": [{"name": "e", "mtu": "1500"}]}, "interfaces[0].mtu", "integer"),
    ({"interfaces": [{"name": "e", "mtu": 1500.0}]}, "interfaces[0].mtu", "integer"),
    ({"interfaces": [{"name": "e", "mtu": True}]}, "interfaces[0].mtu", "integer"),
    ({"interfaces": [{"name": "e", "mtu": -1}]}, "interfaces[0].mtu", "out of range"),
    ({"interfaces": ["eth0"]}, "interfaces[0]", "expected an object"),
    ({"ips": [{}]}, "ips[0].address", "required"),
    ({"ips": [{"address": "10.0.0.1"}]}, "ips[0].address", "CIDR"),
    ({"ips": [{"address": "10.0.0.256/24"}]}, "ips[0].address", "not a valid IP"),
    ({"ips": [{"address": "010.0.0.1/24"}]}, "ips[0].address", "not a valid IP"),
    ({"ips": [{"address": "10.0.0.1/33"}]}, "ips[0].address", "prefix length"),
    ({"ips": [{"address": "fd00::1/129"}]}, "ips[0].address", "prefix length"),
    ({"ips": [{"address": "10.0.0.1/255.0.0.0"}]}, "ips[0].address", "CIDR"),
    ({"ips": [{"address": "10.0.0.1/ 8"}]}, "ips[0].address", "CIDR"),
    ({"ips": [{"address": "fe80::1%eth0/64"}]}, "ips[0].address", "zone"),
    (
        {"ips": [{"address": "10.0.0.2/8", "gateway": "10.0.0.1/8"}]},
        "ips[0].gateway",
        "not a valid",
    ),
    ({"ips": [{"address": "10.0.0.2/8", "interface": -1}]}, "ips[0].interface", "out of range"),
    ({"ips": [{"address": "10.0.0.2/8", "interface": "0"}]}, "ips[0].interface", "integer"),
    ({"routes": [{"gw": "10.0.0.1"}]}, "routes[0].dst", "required"),
    ({"routes": [{"dst": "default"}]}, "routes[0].dst", "CIDR"),
    ({"routes": [{"dst": "0.0.0.0/0", "scope": 256}]}, "routes[0].scope", "out of range"),
    (
        {"routes": [{"dst": "0.0.0.0/0", "table": None, "priority": "1"}]},
        "routes[0].priority",
        "integer",
    ),
    ({"dns": []}, "dns", "expected an object"),
    ({"dns": {"nameservers": "10.0.0.1"}}, "dns.nameservers", "list of strings"),
    ({"dns": {"nameservers": ["dns.example"]}}, "dns.nameservers[0]", "not a valid IP"),
    ({"dns": {"search": [1]}}, "dns.search[0]", "must be a string"),
    ({"dns": {"domain": ["a"]}}, "dns.domain", "must be a string"),
]


@pytest.mark.parametrize(("patch", "field", "reason"), BAD_1X)
def test_bad_1x_results_name_the_field(patch: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidResult) as info:
        parse_result({"cniVersion": "1.0.0", **patch})
    assert info.value.field == field
    assert reason in str(info.value)
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("ip", "field", "reason"),
    [
        ({"address": "10.0.0.2/8"}, "ips[0].version", "required"),
        ({"version": 4, "address": "10.0.0.2/8"}, "ips[0].version", "must be a string"),
        ({"version": "5", "address": "10.0.0.2/8"}, "ips[0].version", "'4' or '6'"),
        ({"version": "6", "address": "10.0.0.2/8"}, "ips[0].version", "IPv4"),
    ],
)
def test_bad_040_ip_version_field(ip: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidResult) as info:
        parse_result({"cniVersion": "0.4.0", "ips": [ip]})
    assert info.value.field == field and reason in str(info.value)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"ip4": {"ip": "fd00::1/64"}}, "ip4.ip"),
        ({"ip6": {"ip": "10.0.0.1/8"}}, "ip6.ip"),
        ({"ip4": {}}, "ip4.ip"),
        ({"ip4": "10.0.0.1/8"}, "ip4"),
        ({"ip4": {"ip": "10.0.0.1/8", "routes": [{"dst": 1}]}}, "ip4.routes[0].dst"),
    ],
)
def test_bad_020_results_name_the_field(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidResult) as info:
        parse_result({"cniVersion": "0.2.0", **patch})
    assert info.value.field == field


@pytest.mark.parametrize(
    "data",
    [b"", b"null", b"[]", b'"1.0.0"', b"{", b"\xff\xfe", b'{"cniVersion": 1.0}', b"[" * 100000],
)
def test_garbage_bytes_raise_invalid_result(data: bytes) -> None:
    with pytest.raises(InvalidResult):
        parse_result(data)
