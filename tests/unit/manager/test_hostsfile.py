"""/etc/hosts: the managed block and in-place rewrites."""

from __future__ import annotations

import os
from pathlib import Path

from ctrnet.manager.extrahosts import ExtraHost
from ctrnet.manager.hostsfile import (
    HostsPeer,
    LineCache,
    hosts_block,
    render_hosts,
    rewrite_hosts_file,
)

ME = HostsPeer(
    hostname="foo", name="bar", addresses={"n1": ["10.200.1.2/24"], "bridge": ["10.4.0.2/24"]}
)
PEER_N1 = HostsPeer(hostname="c1-foobar", name="c1", addresses={"n1": ["10.200.1.3/24"]})
PEER_N2 = HostsPeer(hostname="c2-foobar", name="c2", addresses={"n2": ["10.200.2.3/24"]})
PEER_BR = HostsPeer(hostname="c3", addresses={"bridge": ["10.4.0.3/24"]})


def test_block_lists_shared_networks_with_suffixes() -> None:
    block = hosts_block(
        ME, [PEER_N1, PEER_N2, PEER_BR], [ExtraHost(host="testing.example.com", ip="10.0.0.1")]
    )
    assert block == (
        "# <nerdctl>\n"
        "127.0.0.1\tlocalhost localhost.localdomain\n"
        "::1\t\tlocalhost localhost.localdomain\n"
        "10.0.0.1        testing.example.com\n"
        "10.200.1.2      foo foo.n1 bar bar.n1\n"
        "10.4.0.2        foo bar\n"
        "10.200.1.3      c1-foobar c1-foobar.n1 c1 c1.n1\n"
        "10.4.0.3        c3\n"
        "# </nerdctl>\n"
    )
    assert "c2" not in block


def test_peer_on_other_network_only_is_not_listed_and_loopback_skipped() -> None:
    me = HostsPeer(hostname="solo", addresses={"n9": ["10.200.9.2/24", "127.0.0.1/8"]})
    block = hosts_block(me, [PEER_N1])
    assert "c1" not in block
    assert block.count("127.0.0.1") == 1  # only the localhost line


def test_a_shared_cache_gives_every_block_of_a_batch_the_same_text() -> None:
    same_ip = HostsPeer(hostname="dup", addresses={"n1": ["10.200.1.3/24"]})  # listed once
    nameless = HostsPeer(hostname="", addresses={"n1": ["10.200.1.9/24"]})
    everyone = [ME, PEER_N1, PEER_N2, PEER_BR, same_ip, nameless]
    cache: LineCache = {}
    for me in everyone:
        for default in ("bridge", "n1"):
            assert hosts_block(me, everyone, default_network=default, cache=cache) == (
                hosts_block(me, everyone, default_network=default)
            )
    block = hosts_block(PEER_N1, everyone, cache=cache)
    assert "dup" not in block and block.count("10.200.1.3") == 1
    assert "10.200.1.9" not in block


def test_render_keeps_user_lines_and_replaces_block() -> None:
    existing = (
        "10.1.1.1 mine\n  # <nerdctl>\nold stuff\n# </nerdctl>\n10.4.1.6        outOfMarkedRegion\n"
    )
    new = hosts_block(HostsPeer(hostname="h"))
    text = render_hosts(existing, new)
    assert text == "10.1.1.1 mine\n" + new + "10.4.1.6        outOfMarkedRegion\n"
    assert "old stuff" not in text
    assert render_hosts("10.1.1.1 mine\n", new) == "10.1.1.1 mine\n" + new
    assert render_hosts("", new) == new
    assert render_hosts(text, new) == text  # idempotent


def test_rewrite_keeps_inode(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("192.168.9.9 user\n")
    inode = os.stat(path).st_ino
    rewrite_hosts_file(str(path), hosts_block(ME, [PEER_N1]))
    rewrite_hosts_file(str(path), hosts_block(ME))  # c1 left
    assert os.stat(path).st_ino == inode
    text = path.read_text()
    assert text.startswith("192.168.9.9 user\n# <nerdctl>\n")
    assert "c1" not in text and "foo foo.n1" in text
