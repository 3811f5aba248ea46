"""``ctrnet teardown --force``: the way out when a sandbox's DEL keeps failing (docker ``rm -f``).

The network is the real bridge plugin followed by the fault-injection test plugin, whose DEL fails
while a marker file exists; here the marker stays, so the DEL never succeeds.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager
from ctrnet.manager.forced import known_residue
from ctrnet.manager.records import AttachmentRecord, SandboxRecord
from ctrnet.networks._host import delete_bridge
from tests.support import host
from tests.support.reliability import cli, flaky_del_network, residue

pytestmark = pytest.mark.root


@contextlib.contextmanager
def _broken_del(
    settings: Settings, prefix: str, subnet: ipaddress.IPv4Network, tmp_path: Path
) -> Iterator[tuple[Settings, str, str, Path]]:
    """bridge (ipMasq, host-local) + ``flaky`` whose DEL fails while the marker exists."""
    marker = tmp_path / "del-fails"
    with flaky_del_network(settings, prefix, subnet, marker, tmp_path / "bin") as (
        flaky,
        network,
        bridge,
    ):
        yield flaky, network, bridge, marker


def _setup(settings: Settings, sid: str, network: str) -> str:
    up = cli(settings, "setup", sid, "-n", network, "--dns", "127.0.0.1", "--format", "json")
    assert up.returncode == 0, up.stderr
    address: str = json.loads(up.stdout)["networks"][0]["ips"][0].split("/")[0]
    return address


def test_force_removes_a_sandbox_whose_del_always_fails(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    with _broken_del(settings, prefix, subnet, tmp_path) as (flaky, network, bridge, marker):
        sid = f"{prefix}-sb"
        _setup(flaky, sid, network)
        marker.touch()
        assert cli(flaky, "teardown", sid).returncode != 0  # the normal teardown keeps it
        assert f"ctrnet-{sid}" in host.namespaces()

        done = cli(flaky, "teardown", "--force", sid)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [sid]
        warnings = [ln for ln in done.stderr.splitlines() if ln.startswith("Warning:")]
        assert any("DEL refused on purpose" in w and sid in w for w in warnings), done.stderr
        assert marker.exists()  # the plugin still fails: nothing was healed behind our back

        assert cli(flaky, "ps", "-q").stdout.split() == []
        assert f"ctrnet-{sid}" not in host.namespaces()
        assert not Path(settings.data_root, "sandboxes", sid).exists()
        assert not Path(settings.data_root, "locks", f"sandbox-{sid}.lock").exists()
        delete_bridge(bridge)  # the network's own, not the sandbox's
        assert residue(flaky, prefix, network, subnet) == []
        assert not any(sid in rule for rule in host.iptables_rules())
        again = cli(flaky, "teardown", "--force", sid)  # idempotent
        assert again.returncode == 0 and again.stderr == "", again.stderr


def test_force_after_the_namespace_vanished_removes_the_rules_del_cannot(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    """Without the namespace the bridge plugin's DEL keeps its masquerade chain; --force finds
    it by its comment (as gc does) and removes it with the lease."""
    with _broken_del(settings, prefix, subnet, tmp_path) as (flaky, network, bridge, marker):
        sid = f"{prefix}-sb"
        _setup(flaky, sid, network)
        marker.touch()
        subprocess.run(["ip", "netns", "delete", f"ctrnet-{sid}"], check=True)
        assert any(sid in rule for rule in host.iptables_rules())

        done = cli(flaky, "teardown", "--force", sid)
        assert done.returncode == 0, done.stderr
        assert "DEL refused on purpose" in done.stderr
        assert not any(sid in rule for rule in host.iptables_rules())
        delete_bridge(bridge)
        assert residue(flaky, prefix, network, subnet) == []


def test_library_force_returns_the_warnings(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    with _broken_del(settings, prefix, subnet, tmp_path) as (flaky, network, _bridge, marker):
        sid = f"{prefix}-sb"
        _setup(flaky, sid, network)
        marker.touch()
        manager = NetworkManager(flaky)
        warnings = manager.cleanup(sid, force=True)
        assert any("DEL refused on purpose" in w for w in warnings)
        assert manager.list() == []
        assert manager.cleanup(sid) == []


def test_known_residue_names_leases_of_the_id(tmp_path: Path, prefix: str) -> None:
    """What --force reports when something naming the ID is still there after it."""
    sid, network = f"{prefix}-sb", f"{prefix}-net"
    conflist = {
        "cniVersion": "1.0.0",
        "name": network,
        "plugins": [{"type": "bridge", "ipam": {"type": "host-local", "dataDir": str(tmp_path)}}],
    }
    leases = tmp_path / network
    leases.mkdir()
    (leases / "10.200.0.7").write_text(f"{sid}\r\neth0")
    (leases / "10.200.0.8").write_text(f"{prefix}-other\r\neth0")
    record = SandboxRecord(
        id=sid,
        mode="cni",
        networks=[AttachmentRecord(network=network, ifname="eth0", conflist=json.dumps(conflist))],
    )
    found = known_residue(sid, record)
    assert len(found) == 1 and os.path.join(str(leases), "10.200.0.7") in found[0]
    assert known_residue(sid, None) == []
