"""scripts/demo.py, the main job: runs, removes only the default network it made, refuses (changing
nothing) when the default network's subnet or bridge is taken on the host."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.networks import NetworkStore

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def _demo(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _conflists(settings: Settings) -> list[str]:
    return sorted(p for p in os.listdir(settings.conf_dir) if p.endswith((".conflist", ".conf")))


def test_demo_serves_and_removes_the_default_network_it_created(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet_env: Mapping[str, str],
    e2e_settings: Settings,
    prefix: str,
) -> None:
    sid = f"{prefix}-demo"
    done = _demo(ctrnet_env, "--id", sid)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"-> 'hello from ctrnet sandbox {sid}'" in done.stdout
    assert "removed the default network 'bridge' the demo created" in done.stdout
    assert _conflists(e2e_settings) == []
    assert not Path("/sys/class/net", e2e_settings.default_bridge).exists()
    assert not sandbox_leftovers()


def test_demo_keeps_a_default_network_that_was_there(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet_env: Mapping[str, str],
    e2e_settings: Settings,
    prefix: str,
) -> None:
    existing = NetworkStore(e2e_settings).ensure_default()
    done = _demo(ctrnet_env, "--id", f"{prefix}-demo")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "using the existing default network 'bridge'" in done.stdout
    assert _conflists(e2e_settings) == [os.path.basename(existing.file)]
    assert not sandbox_leftovers()


@pytest.mark.parametrize(
    ("subnet_of", "bridge", "says"),
    [
        # 127.0.0.0/8 is on lo: a default subnet someone else has
        (lambda s: "127.0.0.0/24", None, "the default subnet 127.0.0.0/24 is already in use"),
        # a link of that name exists (lo stands in for someone else's nerdctl0)
        (str, "lo", "a link named lo (the default bridge) already exists"),
    ],
)
def test_demo_refuses_a_taken_default_subnet_or_bridge_and_changes_nothing(
    no_leftovers: Callable[[], list[str]],
    ctrnet_env: Mapping[str, str],
    e2e_settings: Settings,
    subnet: ipaddress.IPv4Network,
    prefix: str,
    subnet_of: Callable[[ipaddress.IPv4Network], str],
    bridge: str | None,
    says: str,
) -> None:
    env = {**ctrnet_env, "CTRNET_DEFAULT_SUBNET": subnet_of(subnet)}
    if bridge:
        env["CTRNET_DEFAULT_BRIDGE"] = bridge
    done = _demo(env, "--id", f"{prefix}-demo")
    assert done.returncode == 1
    assert says in done.stderr and "nothing was changed" in done.stderr
    assert "$ ctrnet run" not in done.stdout  # stopped before running anything
    assert _conflists(e2e_settings) == []  # (the store's read lock file may appear)
    assert not Path("/sys/class/net", e2e_settings.default_bridge).exists()
    assert not Path(e2e_settings.data_root).exists()


def test_demo_stopped_with_sigterm_mid_run_leaves_nothing(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet_env: Mapping[str, str],
    e2e_settings: Settings,
    prefix: str,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(DEMO), "--id", f"{prefix}-demo"],
        env=dict(ctrnet_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("$ ctrnet run")  # the server is starting
        proc.terminate()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "left behind" not in err, err
    assert "nothing left behind" in out, out + err
    assert _conflists(e2e_settings) == []
    assert not sandbox_leftovers()
