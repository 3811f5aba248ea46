"""``ctrnet gc``: what it reclaims, what --dry-run leaves alone, and what it never touches."""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.networks import NetworkStore
from ctrnet.networks._host import isolation_rules
from tests.support import host
from tests.support.reliability import (
    cli,
    gc_report,
    kill,
    managed_network,
    residue,
    start_paused,
    subnet_text,
)

pytestmark = pytest.mark.root


def _up(settings: Settings, sandbox_id: str, network: str, *extra: str) -> dict[str, object]:
    done = cli(
        settings,
        "setup",
        sandbox_id,
        "-n",
        network,
        "--dns",
        "127.0.0.1",
        "--format",
        "json",
        *extra,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def _kinds(report: dict[str, list[dict[str, str]]]) -> set[str]:
    return {r["kind"] for r in report["reclaimed"]}


def test_namespace_gone_after_reboot_is_reclaimed_with_its_nat_rules(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        _up(settings, sid, network, "-p", "127.0.0.1::80")
        # what a reboot does to /run/netns: the namespace vanishes, the records stay
        subprocess.run(["ip", "netns", "delete", f"ctrnet-{sid}"], check=True)
        assert any(sid in r for r in host.iptables_rules())
        report = gc_report(settings)
        assert {
            "kind": "sandbox",
            "name": sid,
            "detail": f"its namespace /run/netns/ctrnet-{sid} is gone",
        } in report["reclaimed"]
        assert "rule" in _kinds(report) and "chain" in _kinds(
            report
        )  # bridge DEL without netns skips masq
        assert residue(settings, prefix, network, subnet, bridge) == []
        assert gc_report(settings)["reclaimed"] == []


def test_dry_run_lists_and_changes_nothing(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        kill(
            start_paused(
                settings, "ADD:firewall", ["setup", sid, "-n", network, "-p", "127.0.0.1::80"]
            )
        )
        before = residue(settings, prefix, network, subnet, bridge)
        rules_before = host.iptables_rules()
        report = gc_report(settings, "--dry-run")
        assert report["dry_run"] is True
        assert {"sandbox", "rule", "chain", "lease"} <= _kinds(report)
        assert residue(settings, prefix, network, subnet, bridge) == before
        assert [r for r in host.iptables_rules() if subnet_text(subnet) in r] == [
            r for r in rules_before if subnet_text(subnet) in r
        ]
        text = cli(settings, "gc", "--dry-run")
        assert text.returncode == 0 and "would reclaim" in text.stdout and sid in text.stdout
        assert "CNI GC not sent" in text.stdout  # the plugins here speak SPEC 1.0.0 only
        gc_report(settings)
        assert residue(settings, prefix, network, subnet, bridge) == []


def test_orphan_cache_entry_of_ours_is_deleted_properly(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        _up(settings, sid, network, "-p", "127.0.0.1::80")
        # the record is lost (say, a data root restored from an old backup)
        for f in Path(settings.data_root, "sandboxes", sid).iterdir():
            f.unlink()
        Path(settings.data_root, "sandboxes", sid).rmdir()
        report = gc_report(settings)
        assert {"cache", "netns"} <= _kinds(report)
        assert residue(settings, prefix, network, subnet, bridge) == []


def test_gc_never_touches_what_is_not_ours(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    netns_factory: Callable[[], str],
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-live"
    with managed_network(settings, network, subnet) as bridge:
        live = _up(settings, sid, network, "-p", "127.0.0.1::80")
        # another tool's attachment on the same network (cnitool style), and a namespace named
        # like ours that another data root made
        other_ns = netns_factory()
        added = cli(settings, "cni", "add", network, other_ns, "--container-id", f"{prefix}-other")
        assert added.returncode == 0, added.stderr
        foreign = f"/run/netns/ctrnet-{prefix}-elsewhere"
        subprocess.run(["ip", "netns", "add", os.path.basename(foreign)], check=True)
        try:
            ours = sorted(
                r for r in host.iptables_rules() if prefix in r or subnet_text(subnet) in r
            )
            report = gc_report(settings)
            assert report["reclaimed"] == []
            assert os.path.exists(foreign) and os.path.exists(other_ns)
            assert (
                sorted(r for r in host.iptables_rules() if prefix in r or subnet_text(subnet) in r)
                == ours
            )
            assert len(host.leases(network)) == 2
            assert cli(settings, "inspect", sid).returncode == 0
            assert [n["network"] for n in live["networks"]] == [network]  # type: ignore[index]
        finally:
            subprocess.run(["ip", "netns", "delete", os.path.basename(foreign)], check=False)
            cli(settings, "cni", "del", network, other_ns, "--container-id", f"{prefix}-other")
            subprocess.run(["ip", "netns", "delete", os.path.basename(other_ns)], check=False)
        assert cli(settings, "teardown", sid).returncode == 0
        assert residue(settings, prefix, network, subnet, bridge) == []


def test_bridge_of_a_removed_network_goes_with_its_isolation_rules(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        kill(start_paused(settings, "files", ["setup", sid, "-n", network]))
        assert isolation_rules(bridge)
        os.unlink(NetworkStore(settings).get(network).file)  # removed by hand, bridge left
        report = gc_report(settings)
        assert {"kind": "bridge", "name": bridge, "detail": "no network config uses it"} in report[
            "reclaimed"
        ]
        assert not os.path.exists(f"/sys/class/net/{bridge}")
        assert isolation_rules(bridge) == [] and isolation_rules(bridge, "ip6tables") == []
        assert residue(settings, prefix, network, subnet) == []


def test_setup_holds_the_gc_lock_shared_while_it_runs(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet):
        proc = start_paused(settings, "ADD:bridge", ["setup", sid, "-n", network])
        fd = os.open(Path(settings.data_root, "locks", "gc.lock"), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what gc takes: it must wait
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # other setups may run beside it
        finally:
            os.close(fd)
            kill(proc)
        fd = os.open(Path(settings.data_root, "locks", "gc.lock"), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the killed setup let go
        finally:
            os.close(fd)
        gc_report(settings)
