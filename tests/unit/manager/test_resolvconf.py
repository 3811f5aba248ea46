"""resolv.conf: each --dns* flag replaces only its part of the host file."""

from __future__ import annotations

from pathlib import Path

from ctrnet.manager.resolvconf import build_resolv_conf, read_host_resolv_conf

HOST = """# generated
nameserver 127.0.0.1
nameserver 192.168.1.1
nameserver 2001:db8::53
search old.example
search lan example.org
options ndots:1
options timeout:2 attempts:3
"""


def test_flags_render_exactly_like_nerdctl() -> None:
    assert build_resolv_conf("", servers=["8.8.8.8"], search=["test"], options=["x"]) == (
        "search test\nnameserver 8.8.8.8\noptions x\n"
    )
    assert build_resolv_conf(
        "", servers=["8.8.8.8"], search=["test", "test1"], options=["no-tld-query", "attempts:10"]
    ) == ("search test test1\nnameserver 8.8.8.8\noptions no-tld-query attempts:10\n")


def test_host_file_fills_missing_parts_without_loopback_or_v6() -> None:
    assert build_resolv_conf(HOST) == (
        "search lan example.org\nnameserver 192.168.1.1\noptions timeout:2 attempts:3\n"
    )
    # --dns alone keeps the host's search and options
    assert build_resolv_conf(HOST, servers=["10.0.0.2"]) == (
        "search lan example.org\nnameserver 10.0.0.2\noptions timeout:2 attempts:3\n"
    )
    assert build_resolv_conf(HOST, search=["."]) == (
        "nameserver 192.168.1.1\noptions timeout:2 attempts:3\n"
    )
    assert "nameserver 2001:db8::53\n" in build_resolv_conf(HOST, ipv6_servers=True)


def test_only_loopback_servers_fall_back_to_public_defaults_unless_allowed() -> None:
    host = "nameserver 127.0.0.1\nnameserver ::1\n"
    assert build_resolv_conf(host) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    assert build_resolv_conf(host, allow_localhost=True) == "nameserver 127.0.0.1\n"
    assert build_resolv_conf("") == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


def test_systemd_resolved_stub_reads_upstream_file(tmp_path: Path) -> None:
    stub, upstream = tmp_path / "resolv.conf", tmp_path / "upstream.conf"
    stub.write_text("nameserver 127.0.0.53\noptions edns0 trust-ad\n")
    upstream.write_text("nameserver 10.9.8.7\n")
    assert read_host_resolv_conf(str(stub), str(upstream)) == "nameserver 10.9.8.7\n"
    upstream.unlink()
    assert read_host_resolv_conf(str(stub), str(upstream)).startswith("nameserver 127.0.0.53")
    stub.write_text("nameserver 127.0.0.53\nnameserver 10.1.1.1\n")
    assert "10.1.1.1" in read_host_resolv_conf(str(stub), str(upstream))
    assert read_host_resolv_conf(str(tmp_path / "missing")) == ""
