"""The container files of real sandboxes: /etc/hosts kept current in place, resolv.conf rules."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions, Sandbox
from ctrnet.networks import NetworkStore
from ctrnet.networks._host import delete_bridge, delete_isolation_rules
from tests.support.reliability import managed_network, residue

pytestmark = pytest.mark.root


def hosts_lines(sandbox: Sandbox) -> dict[str, list[str]]:
    """address -> names of the managed block of the sandbox's hosts file."""
    out: dict[str, list[str]] = {}
    for line in Path(sandbox.hosts_path).read_text().splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            out[parts[0]] = parts[1:]
    return out


def bare(sandbox: Sandbox) -> str:
    return str(ipaddress.ip_interface(sandbox.ips[0]).ip)


@pytest.fixture
def manager(no_leftovers: Callable[[], list[str]], settings: Settings) -> Iterator[NetworkManager]:
    mgr = NetworkManager(settings)
    try:
        yield mgr
    finally:
        for sandbox in mgr.list():
            with contextlib.suppress(Exception):
                mgr.cleanup(sandbox.id)


def test_hosts_files_follow_joins_and_leaves_in_place(
    manager: NetworkManager, settings: Settings, prefix: str, subnet: ipaddress.IPv4Network
) -> None:
    net = f"{prefix}-n1"
    with managed_network(settings, net, subnet):
        boxes = [
            manager.setup(
                f"{prefix}-{n}",
                NetworkOptions.parse(networks=[net], hostname=f"h{n}", dns=["127.0.0.1"]),
                name=n,
            )
            for n in ("a", "b", "c")
        ]
        inodes = [os.stat(b.hosts_path).st_ino for b in boxes]
        for box in boxes:  # each lists all three, the first two rewritten as later ones came
            lines = hosts_lines(box)
            for other in boxes:
                n = other.name
                assert lines[bare(other)] == [f"h{n}", f"h{n}.{net}", n, f"{n}.{net}"]
            assert lines["127.0.0.1"][0] == "localhost"

        manager.cleanup(boxes[1].id)
        for box, inode in zip((boxes[0], boxes[2]), (inodes[0], inodes[2]), strict=True):
            text = Path(box.hosts_path).read_text()
            assert bare(boxes[1]) not in text and "hb" not in text.split()
            assert set(hosts_lines(box)) >= {bare(boxes[0]), bare(boxes[2])}
            assert os.stat(box.hosts_path).st_ino == inode  # bind-mounted: same file
        for box in (boxes[0], boxes[2]):
            manager.cleanup(box.id)
    assert residue(settings, prefix, net, subnet) == []


def test_the_default_network_gets_no_name_suffix(
    no_leftovers: Callable[[], list[str]], settings: Settings, subnet: ipaddress.IPv4Network
) -> None:
    settings = settings.with_(default_subnet=str(subnet))
    manager = NetworkManager(settings)
    store = NetworkStore(settings)
    try:
        a = manager.setup("dflt-a", NetworkOptions.parse(dns=["127.0.0.1"]), name="web")
        b = manager.setup("dflt-b", NetworkOptions.parse(dns=["127.0.0.1"]), name="db")
        assert a.networks[0].network == "bridge"
        assert hosts_lines(a)[bare(b)] == [b.hostname, "db"]
        assert hosts_lines(b)[bare(a)] == [a.hostname, "web"]
    finally:
        for sandbox in manager.list():
            manager.cleanup(sandbox.id)
        store.remove("bridge", allow_default=True)
        delete_isolation_rules(settings.default_bridge)
        delete_bridge(settings.default_bridge)


@pytest.fixture
def resolver_files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "host-resolv.conf", tmp_path / "resolved-resolv.conf"


def none_sandbox(manager: NetworkManager, sid: str, **flags: list[str]) -> str:
    sandbox = manager.setup(sid, NetworkOptions.parse(networks=["none"], **flags))
    return Path(sandbox.resolv_conf_path).read_text()


def test_resolv_conf_from_the_host_file_without_loopback_servers(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    resolver_files: tuple[Path, Path],
) -> None:
    host, resolved = resolver_files
    host.write_text(
        "search corp.example\nnameserver 127.0.0.1\nnameserver 10.1.1.1\n"
        "nameserver fd00::1\noptions ndots:3\n"
    )
    resolved.write_text("nameserver 10.9.9.9\n")  # not used: the host file is no stub
    manager = NetworkManager(
        settings, host_resolv_conf=str(host), resolved_resolv_conf=str(resolved)
    )
    try:
        assert none_sandbox(manager, f"{prefix}-a") == (
            "search corp.example\nnameserver 10.1.1.1\noptions ndots:3\n"
        )
        # each --dns* flag replaces only its own part
        assert none_sandbox(manager, f"{prefix}-b", dns=["10.2.2.2"]) == (
            "search corp.example\nnameserver 10.2.2.2\noptions ndots:3\n"
        )
        assert none_sandbox(manager, f"{prefix}-c", dns_search=["x.example"]) == (
            "search x.example\nnameserver 10.1.1.1\noptions ndots:3\n"
        )
        assert none_sandbox(manager, f"{prefix}-d", dns_options=["rotate"]) == (
            "search corp.example\nnameserver 10.1.1.1\noptions rotate\n"
        )
    finally:
        for sandbox in manager.list():
            manager.cleanup(sandbox.id)


def test_resolv_conf_follows_systemd_resolved_past_its_stub(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    resolver_files: tuple[Path, Path],
) -> None:
    host, resolved = resolver_files
    host.write_text("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n")
    resolved.write_text("nameserver 10.7.7.7\nnameserver 127.0.0.1\nsearch lan.example\n")
    manager = NetworkManager(
        settings, host_resolv_conf=str(host), resolved_resolv_conf=str(resolved)
    )
    try:
        assert none_sandbox(manager, f"{prefix}-a", dns_options=["ndots:2"]) == (
            "search lan.example\nnameserver 10.7.7.7\noptions ndots:2\n"
        )
        resolved.unlink()  # only the stub is known: nothing usable is left, public defaults
        text = none_sandbox(manager, f"{prefix}-b")
        assert "127.0.0.53" not in text and "nameserver 8.8.8.8" in text
    finally:
        for sandbox in manager.list():
            manager.cleanup(sandbox.id)
