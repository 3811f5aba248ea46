"""NetworkOptions parsing: every error names the flag and the value."""

from __future__ import annotations

import pytest

from ctrnet._errors import ValidationError
from ctrnet.manager.extrahosts import ExtraHost, extra_hosts_label, parse_extra_host
from ctrnet.manager.hostname import effective_hostname, hostname_file_text
from ctrnet.manager.options import NetworkOptions


def test_parse_splits_and_dedups() -> None:
    opts = NetworkOptions.parse(
        networks=["a,b", "a", "c"],
        publish=["80", "80", "8080:80/udp"],
        add_host=["db:10.0.0.5", "db:10.0.0.5", "v6:::1"],
        dns=["1.1.1.1", "1.1.1.1", "2001:DB8::1"],
        dns_search=["example.com", "example.com"],
        dns_options=["ndots:2", "rotate", "ndots:2"],
        ip="10.200.0.9",
        mac_address="02-42-AC-11-00-02",
    )
    assert opts.networks == ("a", "b", "c")
    assert [p.raw for p in opts.ports] == ["80", "8080:80/udp"]
    assert opts.extra_hosts == (ExtraHost(host="db", ip="10.0.0.5"), ExtraHost(host="v6", ip="::1"))
    assert opts.dns_servers == ("1.1.1.1", "2001:db8::1")
    assert opts.dns_search == ("example.com",)
    assert opts.dns_options == ("ndots:2", "rotate")
    assert opts.mac_address == "02:42:ac:11:00:02"
    assert opts.given() == [
        "--ip",
        "--mac-address",
        "--dns",
        "--dns-search",
        "--dns-opt",
        "--add-host",
        "--publish",
    ]


@pytest.mark.parametrize(
    ("kwargs", "option", "fragment"),
    [
        ({"uts": "private"}, "--uts", "valid value(s) are 'host', got: 'private'"),
        ({"ip": "10.0.0.300"}, "--ip", "'10.0.0.300': not an IP address"),
        ({"ip": "2001:db8::5"}, "--ip", "not an IPv4 address; use --ip6"),
        ({"ip6": "10.0.0.5"}, "--ip6", "not an IPv6 address; use --ip"),
        ({"ip": "127.0.0.1"}, "--ip", "loopback"),
        ({"mac_address": "02:42:ac:11:00"}, "--mac-address", "six hex octets"),
        ({"mac_address": "01:00:5e:00:00:01"}, "--mac-address", "multicast"),
        ({"mac_address": "02:42:ac:11-00:02"}, "--mac-address", "six hex octets"),
        ({"dns": ["dns.google"]}, "--dns", "'dns.google': not an IP address"),
        ({"dns_options": ["ndots"]}, "--dns-opt", "ndots needs a number"),
        ({"dns_options": ["bad opt"]}, "--dns-opt", "'bad opt'"),
        ({"dns_search": ["bad domain"]}, "--dns-search", "'bad domain'"),
        ({"hostname": "-bad"}, "--hostname", "'-bad'"),
        ({"hostname": "a" * 65}, "--hostname", "longer than 64"),
        ({"domainname": "x..y"}, "--domainname", "'x..y'"),
        ({"networks": ["a,,b"]}, "--network", "empty network name in --network 'a,,b'"),
        ({"publish": ["80/icmp"]}, "--publish", "invalid protocol 'icmp'"),
        ({"add_host": ["10.0.0.1:testing.example.com"]}, "--add-host", "'testing.example.com'"),
    ],
)
def test_bad_values_name_flag_and_value(
    kwargs: dict[str, object], option: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as info:
        NetworkOptions.parse(**kwargs)  # type: ignore[arg-type]
    assert info.value.option == option
    assert fragment in str(info.value)


def test_direct_construction_is_checked_too() -> None:
    with pytest.raises(ValidationError, match="--ip6"):
        NetworkOptions(ip6="nope")
    assert NetworkOptions(ip=" 10.1.2.3").ip == "10.1.2.3"
    assert NetworkOptions(networks=["x"]).networks == ("x",)  # type: ignore[arg-type]


def test_extra_host_forms() -> None:
    assert parse_extra_host("testing.example.com:10.0.0.1") == ExtraHost(
        host="testing.example.com", ip="10.0.0.1"
    )
    assert parse_extra_host("gw:host-gateway", host_gateway_ip="192.168.5.2").ip == "192.168.5.2"
    assert parse_extra_host("v6:[2001:db8::1]").ip == "2001:db8::1"
    with pytest.raises(ValidationError, match="unable to derive the IP value for host-gateway"):
        parse_extra_host("gw:host-gateway")
    for bad in ("nohost", ":1.2.3.4", "host:", "bad name:1.2.3.4"):
        with pytest.raises(ValidationError) as info:
            parse_extra_host(bad)
        assert repr(bad) in str(info.value)
    assert extra_hosts_label([]) == "null"
    assert extra_hosts_label([ExtraHost(host="a", ip="1.2.3.4")]) == '["a:1.2.3.4"]'


def test_hostname_defaults_to_id_prefix() -> None:
    assert effective_hostname("0123456789abcdef0123") == "0123456789ab"
    assert effective_hostname("0123456789abcdef0123", "web") == "web"
    assert hostname_file_text("web") == "web\n"
