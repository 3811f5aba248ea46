"""The conversion matrix between every pair of SPEC versions, and libcni's lossy rules."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ctrnet._errors import CtrnetError, IncompatibleVersion, VersionError
from ctrnet.cni.spec import (
    SUPPORTED_VERSIONS,
    Result,
    Result020,
    Result040,
    convert,
    parse_result,
    to_current,
)
from ctrnet.cni.spec._convert import TABLE, build_table

FULL: dict[str, Any] = {
    "cniVersion": "1.1.0",
    "interfaces": [
        {"name": "cni0", "mac": "0a:58:0a:c8:00:01", "mtu": 1500},
        {"name": "eth0", "mac": "0a:58:0a:c8:00:05", "sandbox": "/run/netns/t1", "pciID": "0:1"},
    ],
    "ips": [
        {"interface": 1, "address": "10.200.0.5/24", "gateway": "10.200.0.1"},
        {"interface": 1, "address": "fd00:10::5/64", "gateway": "fd00:10::1"},
        {"interface": 1, "address": "10.200.9.5/24"},
        {"address": "fd00:99::5/64"},
    ],
    "routes": [
        {"dst": "0.0.0.0/0", "gw": "10.200.0.1", "mtu": 1400},
        {"dst": "::/0", "gw": "fd00:10::1", "scope": 0},
        {"dst": "10.201.0.0/16"},
    ],
    "dns": {"nameservers": ["10.200.0.1"], "domain": "d.test", "search": ["d.test"]},
}

FAMILY = {v: ("020" if v < "0.3" else "040" if v < "1" else "100") for v in SUPPORTED_VERSIONS}
CLASS = {"020": Result020, "040": Result040, "100": Result}


def full() -> Result:
    r = parse_result(FULL)
    assert isinstance(r, Result)
    return r


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(SUPPORTED_VERSIONS, repeat=2)))
def test_every_pair_of_versions_converts(src: str, dst: str) -> None:
    start = convert(full(), src)
    out = convert(start, dst)
    assert out.cni_version == dst
    assert isinstance(out, CLASS[FAMILY[dst]])
    assert parse_result(out.to_bytes()) == out
    assert out.to_dict()["cniVersion"] == dst


def test_the_table_covers_every_pair_exactly_once() -> None:
    assert set(TABLE) == set(itertools.product(SUPPORTED_VERSIONS, repeat=2))


def test_duplicate_converters_are_refused_when_building_the_table() -> None:
    row = (("1.0.0",), ("0.4.0",), lambda r, v: r)
    with pytest.raises(ValueError, match=r"1\.0\.0 -> 0\.4\.0"):
        build_table([row, row])


def test_same_version_is_identity_and_does_not_copy() -> None:
    r = full()
    assert convert(r, "1.1.0") is r


def test_same_family_only_relabels_and_keeps_extras() -> None:
    r = full()
    r.extra["x-top"] = 1
    out = convert(r, "1.0.0")
    assert isinstance(out, Result)
    assert out.interfaces == r.interfaces and out.ips == r.ips and out.routes == r.routes
    assert out.extra == {"x-top": 1}
    assert r.cni_version == "1.1.0"
    out.ips.clear()
    assert len(r.ips) == 4


def test_1x_to_040_adds_ip_versions_and_drops_1_1_fields() -> None:
    out = convert(full(), "0.4.0")
    assert isinstance(out, Result040)
    wire = out.to_dict()
    assert [ip["version"] for ip in wire["ips"]] == ["4", "6", "4", "6"]
    assert [ip.get("interface") for ip in wire["ips"]] == [1, 1, 1, None]
    assert wire["interfaces"] == [
        {"name": "cni0", "mac": "0a:58:0a:c8:00:01"},
        {"name": "eth0", "mac": "0a:58:0a:c8:00:05", "sandbox": "/run/netns/t1"},
    ]
    assert wire["routes"] == [
        {"dst": "0.0.0.0/0", "gw": "10.200.0.1"},
        {"dst": "::/0", "gw": "fd00:10::1"},
        {"dst": "10.201.0.0/16"},
    ]
    assert wire["dns"] == FULL["dns"]


def test_040_to_1x_drops_ip_version_and_keeps_interface_index() -> None:
    out = convert(convert(full(), "0.3.1"), "1.0.0")
    wire = out.to_dict()
    assert all("version" not in ip for ip in wire["ips"])
    assert [ip.get("interface") for ip in wire["ips"]] == [1, 1, 1, None]
    assert wire["interfaces"][1] == {
        "name": "eth0",
        "mac": "0a:58:0a:c8:00:05",
        "sandbox": "/run/netns/t1",
    }


@pytest.mark.parametrize("src", ["1.1.0", "1.0.0", "0.4.0", "0.3.0"])
def test_down_to_020_keeps_the_first_address_of_each_family(src: str) -> None:
    out = convert(convert(full(), src), "0.2.0")
    assert out.to_dict() == {
        "cniVersion": "0.2.0",
        "ip4": {
            "ip": "10.200.0.5/24",
            "gateway": "10.200.0.1",
            "routes": [{"dst": "0.0.0.0/0", "gw": "10.200.0.1"}, {"dst": "10.201.0.0/16"}],
        },
        "ip6": {
            "ip": "fd00:10::5/64",
            "gateway": "fd00:10::1",
            "routes": [{"dst": "::/0", "gw": "fd00:10::1"}],
        },
        "dns": FULL["dns"],
    }


def test_down_to_020_drops_routes_of_a_family_without_an_address() -> None:
    data = {**FULL, "ips": [{"address": "fd00:10::5/64"}]}
    out = convert(parse_result(data), "0.1.0")
    assert isinstance(out, Result020)
    assert out.ip4 is None and out.ip6 is not None
    assert [str(r.dst) for r in out.ip6.routes] == ["::/0"]


@pytest.mark.parametrize("src", ["1.1.0", "1.0.0", "0.4.0", "0.3.1", "0.3.0"])
@pytest.mark.parametrize("dst", ["0.2.0", "0.1.0", ""])
def test_down_to_020_without_any_address_is_an_error(src: str, dst: str) -> None:
    no_ips = convert(parse_result({**FULL, "ips": []}), src)
    with pytest.raises(VersionError, match="no IP addresses") as info:
        convert(no_ips, dst)
    assert f"CNI {src} result to {dst or '0.1.0'}" in str(info.value)


def test_up_from_020_makes_ip_entries_and_concatenates_routes() -> None:
    legacy = parse_result(
        {
            "cniVersion": "0.2.0",
            "ip4": {
                "ip": "10.200.0.5/24",
                "gateway": "10.200.0.1",
                "routes": [{"dst": "0.0.0.0/0"}],
            },
            "ip6": {"ip": "fd00:10::5/64", "routes": [{"dst": "::/0", "gw": "fd00:10::1"}]},
            "dns": {"nameservers": ["10.200.0.1"]},
        }
    )
    assert convert(legacy, "0.4.0").to_dict() == {
        "cniVersion": "0.4.0",
        "ips": [
            {"version": "4", "address": "10.200.0.5/24", "gateway": "10.200.0.1"},
            {"version": "6", "address": "fd00:10::5/64"},
        ],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00:10::1"}],
        "dns": {"nameservers": ["10.200.0.1"]},
    }
    current = to_current(legacy)
    assert current.cni_version == "1.0.0"
    assert current.interfaces == []
    assert [ip.interface for ip in current.ips] == [None, None]


def test_unknown_keys_are_dropped_across_families_as_libcni_does() -> None:
    data = {**FULL, "x-top": 1, "dns": {"x": 1}, "routes": [{"dst": "0.0.0.0/0", "x": 2}]}
    out = convert(parse_result(data), "0.4.0")
    assert out.extra == {} and "x" not in out.to_dict()["dns"]
    assert out.to_dict()["routes"] == [{"dst": "0.0.0.0/0"}]


def test_conversion_to_empty_version_means_010() -> None:
    assert convert(full(), "").cni_version == "0.1.0"


@pytest.mark.parametrize("bad", ["0.5.0", "2.0.0", "1.0", "latest"])
def test_conversion_to_an_unknown_version_is_refused(bad: str) -> None:
    with pytest.raises(IncompatibleVersion) as info:
        convert(full(), bad)
    assert repr(bad) in str(info.value)


def test_conversion_of_a_result_with_a_foreign_version_label_is_refused() -> None:
    r = full()
    r.cni_version = "9.9.9"
    with pytest.raises(CtrnetError, match=r"9\.9\.9"):
        convert(r, "1.0.0")


def test_as_version_goes_through_the_table() -> None:
    r = full()
    assert r.as_version("0.2.0").to_dict() == convert(r, "0.2.0").to_dict()
    down = convert(r, "0.4.0")
    assert isinstance(down, Result040)
    assert down.as_version("1.1.0") == convert(down, "1.1.0")
