"""The network manager with the real plugins: sandboxes that talk, publish ports and go away."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import ConflictError, PluginError, ValidationError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions, Sandbox
from tests.support.reliability import cli, kill, managed_network, residue, start_paused
from tests.support.testplugin import install

pytestmark = pytest.mark.root

Subnets = Callable[[], ipaddress.IPv4Network]


class World:
    """The test's networks and sandboxes; everything is removed at the end."""

    def __init__(self, settings: Settings, prefix: str, subnets: Subnets) -> None:
        self.settings = settings
        self.prefix = prefix
        self.subnets = subnets
        self.manager = NetworkManager(settings)
        self.stack = contextlib.ExitStack()
        self.nets: dict[str, ipaddress.IPv4Network] = {}
        self.servers: list[subprocess.Popen[bytes]] = []

    def network(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        subnet = self.subnets()
        self.stack.enter_context(managed_network(self.settings, name, subnet))
        self.nets[name] = subnet
        return name

    def setup(self, suffix: str, name: str | None = None, **flags: Any) -> Sandbox:
        if not any(n.startswith("container:") for n in flags.get("networks", ())):
            flags.setdefault("dns", ["127.0.0.1"])  # never the host's resolver
        opts = NetworkOptions.parse(**flags)
        return self.manager.setup(f"{self.prefix}-{suffix}", opts, name=name)

    def serve(self, sandbox: Sandbox, port: int) -> None:
        """An HTTP server on 0.0.0.0:port inside the sandbox (ours, killed by PID at the end)."""
        proc = subprocess.Popen(
            [
                "nsenter",
                f"--net={sandbox.netns}",
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "0.0.0.0",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=str(Path(self.settings.data_root).parent),
        )
        self.servers.append(proc)
        probe = (
            "import socket,sys,time\n"
            "for _ in range(200):\n"
            "    try: socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2).close(); sys.exit(0)\n"
            "    except OSError: time.sleep(0.05)\n"
            "sys.exit(1)\n"
        )
        subprocess.run(
            ["nsenter", f"--net={sandbox.netns}", sys.executable, "-c", probe, str(port)],
            check=True,
        )

    def close(self) -> None:
        for proc in self.servers:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
        for sandbox in self.manager.list():
            with contextlib.suppress(Exception):
                self.manager.cleanup(sandbox.id)
        self.stack.close()
        for name in self.nets:
            shutil.rmtree(f"/var/lib/cni/networks/{name}", ignore_errors=True)


@pytest.fixture
def world(
    no_leftovers: Callable[[], list[str]], settings: Settings, prefix: str, subnet_factory: Subnets
) -> Iterator[World]:
    w = World(settings, prefix, subnet_factory)
    try:
        yield w
    finally:
        w.close()
        for name, subnet in w.nets.items():
            assert residue(settings, prefix, name, subnet) == []


def fetch_from(sandbox: Sandbox, url: str) -> str:
    """GET ``url`` from inside ``sandbox``, resolving names through its hosts file only."""
    script = (
        "import sys,urllib.request\n"
        "try: print(urllib.request.urlopen(sys.argv[1], timeout=3).status)\n"
        "except Exception as e: print('failed', type(e).__name__)\n"
    )
    shell = (
        f"mount --bind {sandbox.hosts_path} /etc/hosts && "
        f"mount --bind {sandbox.resolv_conf_path} /etc/resolv.conf && "
        f'exec "{sys.executable}" -c "$0" "$1"'
    )
    out = subprocess.run(
        ["nsenter", f"--net={sandbox.netns}", "unshare", "-m", "sh", "-c", shell, script, url],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def links_in(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        ["nsenter", f"--net={sandbox.netns}", "ip", "-j", "addr", "show"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {item["ifname"]: item for item in json.loads(out.stdout)}


def test_two_sandboxes_on_one_network_reach_each_other_by_ip_and_name(world: World) -> None:
    net = world.network("n1")
    a = world.setup("a", name="alpha", networks=[net])
    b = world.setup("b", name="beta", networks=[net])
    world.serve(b, 8000)

    assert fetch_from(a, f"http://{b.ips[0]}:8000/") == "200"
    assert fetch_from(a, "http://beta:8000/") == "200"
    assert fetch_from(a, f"http://beta.{net}:8000/") == "200"
    assert fetch_from(a, f"http://{b.hostname}:8000/") == "200"
    # a joined before b: its hosts file was rewritten in place when b came
    assert f"{b.ips[0]}" in Path(a.hosts_path).read_text()
    world.manager.cleanup(b.id)
    assert b.ips[0] not in Path(a.hosts_path).read_text()


def test_sandboxes_on_different_networks_cannot_reach_each_other(world: World) -> None:
    n1, n2 = world.network("n1"), world.network("n2")
    a = world.setup("a", name="alpha", networks=[n1])
    c = world.setup("c", name="gamma", networks=[n2])
    world.serve(c, 8000)

    assert fetch_from(a, f"http://{c.ips[0]}:8000/").startswith("failed")
    assert "gamma" not in Path(a.hosts_path).read_text()


def test_published_port_answers_on_localhost(world: World) -> None:
    net = world.network("n1")
    web = world.setup("web", networks=[net], publish=["8000"])
    (port,) = web.ports
    assert port.container_port == 8000 and port.host_port > 0
    world.serve(web, 8000)
    with urllib.request.urlopen(f"http://127.0.0.1:{port.host_port}/", timeout=5) as reply:
        assert reply.status == 200
    other = world.setup("other", networks=[net], publish=["8000"])
    assert other.ports[0].host_port != port.host_port  # already forwarded: skipped


def test_static_ip_and_mac_are_honoured(world: World) -> None:
    net = world.network("n1")
    ip = str(world.nets[net].network_address + 77)
    sandbox = world.setup("s", networks=[net], ip=ip, mac_address="02:42:ac:11:00:42")
    eth0 = links_in(sandbox)["eth0"]
    assert eth0["address"] == "02:42:ac:11:00:42"
    assert ip in [a["local"] for a in eth0["addr_info"]]
    assert sandbox.inspect()["NetworkSettings"]["Networks"][net]["IPAddress"] == ip


def test_two_networks_give_eth0_and_eth1_and_ip_goes_to_its_subnet(world: World) -> None:
    n1, n2 = world.network("n1"), world.network("n2")
    ip = str(world.nets[n2].network_address + 9)
    sandbox = world.setup("s", networks=[n1, n2], ip=ip)
    links = links_in(sandbox)
    assert {"lo", "eth0", "eth1"} == set(links)
    eth0 = [a["local"] for a in links["eth0"]["addr_info"] if a["family"] == "inet"]
    eth1 = [a["local"] for a in links["eth1"]["addr_info"] if a["family"] == "inet"]
    assert ipaddress.ip_address(eth0[0]) in world.nets[n1]
    assert eth1 == [ip]


def test_failing_second_network_leaves_nothing_behind(world: World, tmp_path: Path) -> None:
    good = world.network("n1")
    bin_dir = tmp_path / "bin"
    install(bin_dir, "failing")
    bad = f"{world.prefix}-bad"
    conf = {
        "cniVersion": "1.0.0",
        "name": bad,
        "plugins": [
            {
                "type": "failing",
                "testplugin": {"on": {"ADD": {"error": {"code": 11, "msg": "nope"}}}},
            }
        ],
    }
    Path(world.settings.conf_dir, f"{bad}.conflist").write_text(json.dumps(conf))
    settings = world.settings.with_(cni_path=(*world.settings.cni_path, str(bin_dir)))
    manager = NetworkManager(settings)
    sid = f"{world.prefix}-s"
    with pytest.raises(PluginError, match="nope"):
        manager.setup(sid, NetworkOptions.parse(networks=[good, bad], dns=["127.0.0.1"]))
    assert manager.list() == []
    assert residue(world.settings, world.prefix, good, world.nets[good]) == []
    assert not os.path.exists(os.path.join(settings.netns_dir, f"ctrnet-{sid}"))


def test_teardown_twice_succeeds(world: World) -> None:
    net = world.network("n1")
    sandbox = world.setup("s", networks=[net], publish=["8000"])
    world.manager.cleanup(sandbox.id)
    world.manager.cleanup(sandbox.id)
    assert world.manager.list() == []
    assert residue(world.settings, world.prefix, net, world.nets[net]) == []


def test_setup_killed_half_way_is_followed_by_a_clean_setup(world: World) -> None:
    net = world.network("n1")
    sid = f"{world.prefix}-s"
    proc = start_paused(world.settings, "add:0", ["setup", sid, "-n", net, "--dns", "127.0.0.1"])
    kill(proc)
    sandbox = world.manager.setup(sid, NetworkOptions.parse(networks=[net], dns=["127.0.0.1"]))
    assert sandbox.state == "ready" and sandbox.ips
    world.manager.cleanup(sid)
    assert residue(world.settings, world.prefix, net, world.nets[net]) == []


def test_none_mode_has_only_loopback(world: World) -> None:
    sandbox = world.setup("s", networks=["none"], add_host=["db.local:10.1.2.3"])
    links = links_in(sandbox)
    assert list(links) == ["lo"] and "UP" in links["lo"]["flags"]
    assert "db.local" in Path(sandbox.hosts_path).read_text()
    world.manager.cleanup(sandbox.id)
    assert not os.path.exists(sandbox.netns)


def test_container_mode_shares_the_target_namespace_and_files(world: World) -> None:
    net = world.network("n1")
    a = world.setup("a", name="alpha", networks=[net])
    b = world.setup("b", networks=["container:alpha"])
    assert (b.netns, b.hosts_path, b.resolv_conf_path) == (
        a.netns,
        a.hosts_path,
        a.resolv_conf_path,
    )
    assert b.target == a.id
    with pytest.raises(ValidationError, match="could not find"):
        world.setup("c", networks=[f"container:{world.prefix}-missing"])
    world.manager.cleanup(b.id)
    assert os.path.exists(a.netns)  # the owner's namespace stays


def test_host_mode_copies_but_never_changes_the_host_files(world: World) -> None:
    before = Path("/etc/hosts").read_bytes()
    sandbox = world.setup("h", networks=["host"], add_host=["db.local:10.1.2.3"])
    assert sandbox.netns == ""
    text = Path(sandbox.hosts_path).read_text()
    assert "db.local" in text
    assert Path("/etc/hosts").read_bytes() == before
    assert world.manager.oci_spec(sandbox.id)["linux"]["namespaces"] == [{"type": "uts"}]
    world.manager.cleanup(sandbox.id)
    assert Path("/etc/hosts").read_bytes() == before
    assert socket.gethostname() == sandbox.hostname


def test_a_container_mode_target_is_not_torn_down_under_its_dependents(world: World) -> None:
    net = world.network("n1")
    a = world.setup("a", name="alpha", networks=[net])
    b = world.setup("b", networks=["container:alpha"])
    c = world.setup("c", networks=[f"container:{a.id}"])

    with pytest.raises(ConflictError, match=f"{b.id}, {c.id} share its network namespace"):
        world.manager.cleanup(a.id)
    assert world.manager.get(a.id).state == "ready" and os.path.exists(a.netns)
    assert Path(a.hosts_path).exists()

    world.manager.cleanup(b.id)
    with pytest.raises(ConflictError, match=f"{c.id} shares its network namespace") as err:
        world.manager.cleanup(a.id)
    assert err.value.exit_code == 4
    # a dependent whose setup crashed (not ready, nobody holds its lock) does not count
    record = Path(world.settings.data_root, "sandboxes", c.id, "sandbox.json")
    record.write_text(record.read_text().replace('"state": "ready"', '"state": "creating"'))
    world.manager.cleanup(a.id)
    assert not os.path.exists(a.netns)
    world.manager.cleanup(c.id)
    assert world.manager.list() == []


def test_cli_teardown_takes_a_target_and_its_dependent_in_any_order(world: World) -> None:
    net = world.network("n1")
    a = world.setup("a", name="alpha", networks=[net])
    b = world.setup("b", networks=["container:alpha"])
    done = cli(world.settings, "teardown", a.id, b.id)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [b.id, a.id]
    assert world.manager.list() == [] and not os.path.exists(a.netns)
