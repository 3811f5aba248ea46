"""Crash proofs: SIGKILL a setup or teardown at every step, then recover with nothing left over.

Each step is a pause point of the real ``ctrnet`` CLI (``CTRNET_TEST_PAUSE_AT``); the process is
killed there by its PID. Recovery is either ``ctrnet gc`` or a new setup of the same ID (then a
normal teardown); afterwards no namespace, link, bridge port, lease, cache file, nat or filter
rule naming the sandbox (its ID or its address) and no record may remain.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable

import pytest

from ctrnet._settings import Settings
from tests.support.reliability import cli, gc_report, kill, managed_network, residue, start_paused

pytestmark = pytest.mark.root

#: every step of a setup on a bridge + portmap + firewall + tuning network, in order
SETUP_STEPS = [
    "record",
    "netns",
    "ADD:bridge",
    "ADD:portmap",
    "ADD:firewall",
    "ADD:tuning",
    "add:0",
    "files",
]
#: every step of a teardown of that sandbox, in order
TEARDOWN_STEPS = ["removing", "DEL:tuning", "DEL:firewall", "DEL:portmap", "DEL:bridge", "cleaned"]


def _setup_args(sandbox_id: str, network: str) -> list[str]:
    return ["setup", sandbox_id, "-n", network, "-p", "127.0.0.1::80", "--dns", "127.0.0.1"]


def _recover(settings: Settings, how: str, sandbox_id: str, network: str) -> None:
    if how == "gc":
        report = gc_report(settings)
        assert any(r["kind"] == "sandbox" and r["name"] == sandbox_id for r in report["reclaimed"])
        assert cli(settings, "gc", "--format", "json").stdout.count('"kind"') == 0, "second gc"
    else:
        again = cli(settings, *_setup_args(sandbox_id, network), "--format", "json")
        assert again.returncode == 0, again.stderr
        address = json.loads(again.stdout)["networks"][0]["ips"][0]
        assert ipaddress.ip_interface(address).ip.is_private
        down = cli(settings, "teardown", sandbox_id)
        assert down.returncode == 0, down.stderr


@pytest.mark.parametrize("how", ["gc", "setup-again"])
@pytest.mark.parametrize("step", SETUP_STEPS)
def test_setup_killed_at_step_leaves_nothing(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    step: str,
    how: str,
) -> None:
    network, sandbox_id = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        proc = start_paused(settings, step, _setup_args(sandbox_id, network))
        kill(proc)
        assert f"record {sandbox_id}" in residue(settings, prefix, network, subnet, bridge)
        _recover(settings, how, sandbox_id, network)
        assert residue(settings, prefix, network, subnet, bridge) == []


@pytest.mark.parametrize("how", ["gc", "setup-again"])
@pytest.mark.parametrize("step", TEARDOWN_STEPS)
def test_teardown_killed_at_step_leaves_nothing(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    step: str,
    how: str,
) -> None:
    network, sandbox_id = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        up = cli(settings, *_setup_args(sandbox_id, network))
        assert up.returncode == 0, up.stderr
        proc = start_paused(settings, step, ["teardown", sandbox_id])
        kill(proc)
        assert f"record {sandbox_id}" in residue(settings, prefix, network, subnet, bridge)
        _recover(settings, how, sandbox_id, network)
        assert residue(settings, prefix, network, subnet, bridge) == []
