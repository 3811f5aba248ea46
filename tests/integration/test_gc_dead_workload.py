"""``ctrnet run`` records its own process as the sandbox's workload: if it is SIGKILLed (nobody
left to tear down), ``ctrnet gc`` reclaims the sandbox once no process is left in its namespace.
Sandboxes made by ``ctrnet setup`` have no workload and stay the user's until teardown."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from tests.support.reliability import (
    cli,
    cli_argv,
    cli_env,
    gc_report,
    managed_network,
    residue,
)

pytestmark = pytest.mark.root


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(FileNotFoundError):
        return [int(x) for x in path.read_text().split()]
    return []


def _comm(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip()
    return ""


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _running(
    settings: Settings, sid: str, network: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``ctrnet run --id SID -- sleep 1000``; yields (ctrnet's process, the sleep's PID) once the
    sleep runs in the sandbox. Both are SIGKILLed by PID at the end whatever happens."""
    argv = cli_argv(settings, "run", "--id", sid, "-n", network, "--dns", "127.0.0.1")
    proc = subprocess.Popen(
        [*argv, "--", "sleep", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(settings),
    )
    sleeper = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            sleepers = [k for k in _children(proc.pid) if _comm(k) == "sleep"]  # not a plugin
            if sleepers:
                sleeper = sleepers[0]
                break
            time.sleep(0.05)
        assert sleeper, f"ctrnet run never started its workload (exit {proc.poll()})"
        yield proc, sleeper
    finally:
        _kill(proc.pid)
        proc.wait()
        if sleeper:
            _kill(sleeper)  # reparented to init once ctrnet is gone: init reaps it


def _wait_gone(pid: int) -> None:
    """Until ``pid`` has exited (gone, or a zombie its new parent has not reaped yet)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return
        if stat[stat.rfind(")") + 2] in "ZX":
            return
        time.sleep(0.02)


def test_killed_run_is_reclaimed_once_its_workload_is_gone_and_setup_sandboxes_stay(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid, kept = f"{prefix}-net", f"{prefix}-run", f"{prefix}-kept"
    with managed_network(settings, network, subnet) as bridge:
        up = cli(settings, "setup", kept, "-n", network, "--dns", "127.0.0.1")
        assert up.returncode == 0, up.stderr
        with _running(settings, sid, network) as (ctrnet, sleep_pid):
            ctrnet_pid = ctrnet.pid
            assert gc_report(settings)["reclaimed"] == []  # both live: nothing to do

            os.kill(ctrnet_pid, signal.SIGKILL)  # nobody is left to tear the sandbox down
            ctrnet.wait()
            report = gc_report(settings)
            assert report["reclaimed"] == []  # the sleep still runs in the namespace
            assert any(sid in n and "processes still run" in n for n in report["notes"])

            os.kill(sleep_pid, signal.SIGKILL)
            _wait_gone(sleep_pid)
            report = gc_report(settings)
            assert {
                "kind": "sandbox",
                "name": sid,
                "detail": f"its workload (ctrnet-run pid {ctrnet_pid}) is gone",
            } in report["reclaimed"]
            assert not any(r["name"] == kept for r in report["reclaimed"])

        ps = json.loads(cli(settings, "ps", "--format", "json").stdout)
        assert [s["id"] for s in ps] == [kept]  # ctrnet setup's sandbox is the user's
        assert cli(settings, "teardown", kept).returncode == 0
        assert residue(settings, prefix, network, subnet, bridge) == []
        assert gc_report(settings)["reclaimed"] == []


def test_run_with_no_rm_records_no_workload(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-keep"
    with managed_network(settings, network, subnet) as bridge:
        done = cli(
            settings,
            "run",
            "--no-rm",
            "--id",
            sid,
            "-n",
            network,
            "--dns",
            "127.0.0.1",
            "--",
            "true",
        )
        assert done.returncode == 0, done.stderr
        assert gc_report(settings)["reclaimed"] == []  # kept on purpose: the user tears it down
        assert cli(settings, "teardown", sid).returncode == 0
        assert residue(settings, prefix, network, subnet, bridge) == []
