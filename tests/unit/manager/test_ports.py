"""``-p`` parsing and automatic host ports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrnet._errors import ValidationError
from ctrnet.manager.ports import (
    PortMapping,
    ephemeral_port_range,
    parse_port,
    parse_ports_label,
    ports_in_use,
    ports_label,
    resolve_ports,
)


def mappings(spec: str, **kw: object) -> list[tuple[str, int, int, str]]:
    return [
        (m.host_ip, m.host_port, m.container_port, m.protocol)
        for m in resolve_ports([parse_port(spec)], **kw)  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("127.0.0.1:3000:8080/tcp", [("127.0.0.1", 3000, 8080, "tcp")]),
        (
            "127.0.0.1:3000-3001:8080-8081/tcp",
            [("127.0.0.1", 3000, 8080, "tcp"), ("127.0.0.1", 3001, 8081, "tcp")],
        ),
        ("3000:8080/tcp", [("0.0.0.0", 3000, 8080, "tcp")]),
        ("3000:8080", [("0.0.0.0", 3000, 8080, "tcp")]),
        ("3000:8080/udp", [("0.0.0.0", 3000, 8080, "udp")]),
        ("3000:8080/SCTP", [("0.0.0.0", 3000, 8080, "sctp")]),
        ("[::1]:8080:80", [("::1", 8080, 80, "tcp")]),
        ("[2001:db8::0001]:8080:80/udp", [("2001:db8::1", 8080, 80, "udp")]),
    ],
)
def test_explicit_specs(spec: str, expected: list[tuple[str, int, int, str]]) -> None:
    assert mappings(spec) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty port specification"),
        ("3000:8080/invalid", "invalid protocol 'invalid'"),
        ("3000:8080/tcp/", "unexpected slashes"),
        ("127.0.0.1:3000:0.0.0.0:8080", "IPv6 host addresses go in brackets"),
        ("127.0.0.256:3000:80", "invalid ip address '127.0.0.256'"),
        ("3000:65536", "invalid container port 65536"),
        ("0:80", "invalid host port 0"),
        ("abc:80", "invalid host port 'abc'"),
        ("3000:", "no container port"),
        (
            "7000-7005:79-85",
            "invalid ranges specified for container and host ports: 79-85 and 7000-7005",
        ),
        ("81-80", "end is before start"),
        ("[10.0.0.1]:80:80", "must be an IPv6 address"),
        ("[::1:80:80", "invalid host address"),
        ("::1:8080:80", "brackets"),
    ],
)
def test_bad_specs_name_the_input(spec: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_port(spec)
    assert fragment in str(info.value)
    assert info.value.option == "--publish"
    assert info.value.value == spec


def test_automatic_ports_skip_bound_and_forwarded() -> None:
    in_use = {("tcp", "0.0.0.0", 49153), ("udp", "0.0.0.0", 49155)}
    forwarded = {("tcp", 49154)}
    got = mappings("80-81", in_use=in_use, forwarded=forwarded, port_range=(49153, 49170))
    # 49153 bound, 49154 forwarded: the first run of two free tcp ports starts at 49155
    assert got == [("0.0.0.0", 49155, 80, "tcp"), ("0.0.0.0", 49156, 81, "tcp")]


def test_automatic_ports_are_unique_within_one_request() -> None:
    specs = [parse_port("80"), parse_port("80/udp"), parse_port("8080")]
    got = resolve_ports(specs, port_range=(50000, 50010))
    assert [(m.host_port, m.protocol) for m in got] == [
        (50000, "tcp"),
        (50000, "udp"),
        (50001, "tcp"),
    ]


def test_binding_on_other_ip_does_not_block_specific_ip() -> None:
    in_use = {("tcp", "127.0.0.1", 50000)}
    assert mappings("10.0.0.1::80", in_use=in_use, port_range=(50000, 50001))[0][1] == 50000
    assert mappings("80", in_use=in_use, port_range=(50000, 50001))[0][1] == 50001


def test_no_free_run_is_an_error() -> None:
    with pytest.raises(ValidationError, match="consecutive free ports in 50000-50002"):
        mappings("80-82", in_use={("tcp", "::", 50001)}, port_range=(50000, 50002))
    with pytest.raises(ValidationError, match="can not allocate 4 ports"):
        mappings("80-83", port_range=(50000, 50002))


def test_host_range_for_one_container_port_picks_first_free() -> None:
    got = mappings("7000-7005:80", forwarded={("tcp", 7000), ("tcp", 7001)})
    assert got == [("0.0.0.0", 7002, 80, "tcp")]
    with pytest.raises(ValidationError, match="every host port"):
        mappings("7000-7001:80", forwarded={("tcp", 7000), ("tcp", 7001)})


def test_explicit_port_already_forwarded_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"0.0.0.0:8080/tcp failed: port is already allocated"
    ):
        mappings("8080:80", forwarded={("tcp", 8080)})
    assert mappings("8080:80/udp", forwarded={("tcp", 8080)}) == [("0.0.0.0", 8080, 80, "udp")]


def test_proc_net_reader(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    header = "  sl  local_address rem_address   st tx_queue rx_queue\n"
    # 127.0.0.1:8080 LISTEN, 0.0.0.0:22 ESTABLISHED (not a listener)
    (root / "tcp").write_text(
        header
        + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000\n"
        + "   1: 00000000:0016 0100007F:C350 01 00000000:00000000 00:00000000 00000000\n"
    )
    # [::]:8443 LISTEN
    (root / "tcp6").write_text(
        header
        + "   0: 00000000000000000000000000000000:20FB 00000000000000000000000000000000:0000 0A 0\n"
    )
    # 0.0.0.0:53 bound udp (state 07)
    (root / "udp").write_text(header + "   0: 00000000:0035 00000000:0000 07 0\n")
    assert ports_in_use(str(root)) == {
        ("tcp", "127.0.0.1", 8080),
        ("tcp", "::", 8443),
        ("udp", "0.0.0.0", 53),
    }


def test_ephemeral_range(tmp_path: object) -> None:
    from pathlib import Path

    f = Path(str(tmp_path)) / "range"
    f.write_text("32768\t60999\n")
    assert ephemeral_port_range(str(f)) == (32768, 60999)
    f.write_text("garbage")
    assert ephemeral_port_range(str(f)) == (49153, 60999)
    assert ephemeral_port_range(str(f) + "-missing") == (49153, 60999)


def test_ports_label_round_trip() -> None:
    ports = [
        PortMapping(host_port=8080, container_port=80),
        PortMapping(host_port=53, container_port=53, protocol="udp", host_ip="127.0.0.1"),
    ]
    text = ports_label(ports)
    assert '{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":"0.0.0.0"}' in text
    assert parse_ports_label(text) == ports
    assert parse_ports_label(None) == [] and parse_ports_label("null") == []
    with pytest.raises(ValidationError, match="malformed nerdctl/ports"):
        parse_ports_label("[{")
    with pytest.raises(ValidationError, match="malformed entry"):
        parse_ports_label('[{"HostPort": 1}]')
    assert ports[0].to_cni() == {
        "hostPort": 8080,
        "containerPort": 80,
        "protocol": "tcp",
        "hostIP": "0.0.0.0",
    }


@given(
    counts=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=5),
    bound=st.sets(st.integers(min_value=50000, max_value=50040), max_size=20),
    forwarded=st.sets(st.integers(min_value=50000, max_value=50040), max_size=10),
)
def test_automatic_ports_never_collide(
    counts: list[int], bound: set[int], forwarded: set[int]
) -> None:
    specs = [parse_port(f"{1000 + 10 * i}-{1000 + 10 * i + n - 1}") for i, n in enumerate(counts)]
    in_use = {("tcp", "0.0.0.0", p) for p in bound}
    try:
        got = resolve_ports(
            specs,
            in_use=in_use,
            forwarded={("tcp", p) for p in forwarded},
            port_range=(50000, 50040),
        )
    except ValidationError:
        return  # not enough room is a fine answer; a collision is not
    hosts = [m.host_port for m in got]
    assert len(hosts) == len(set(hosts)) == sum(counts)
    assert not set(hosts) & (bound | forwarded)
    assert all(50000 <= h <= 50040 for h in hosts)
