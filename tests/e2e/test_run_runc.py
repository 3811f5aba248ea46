"""``ctrnet run --rootfs``: runc containers on ctrnet sandboxes (published ports, names)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from tests.e2e.conftest import CTRNET, stop
from tests.support.rootfs import write_bundle

pytestmark = pytest.mark.e2e

Ctrnet = Callable[..., subprocess.CompletedProcess[str]]


def _fetch(url: str, timeout: float = 30) -> str:
    """GET ``url`` (only ever 127.0.0.1), retrying until the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_running(container_id: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["runc", "state", container_id], capture_output=True, text=True, check=False
        )
        if state.returncode == 0 and json.loads(state.stdout)["status"] == "running":
            return
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    raise AssertionError(f"container {container_id} did not start")


@pytest.fixture
def background(ctrnet_env: Mapping[str, str]) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``ctrnet ARGS...`` in the background; every one is stopped (SIGTERM) at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*CTRNET, *args],
            env=dict(ctrnet_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        stop(proc)


def test_published_port_answers_on_loopback(
    no_leftovers: Callable[[], list[str]],
    background: Callable[..., subprocess.Popen[str]],
    sandbox_leftovers: Callable[[], list[str]],
    rootfs: Path,
    free_port: Callable[[], int],
    prefix: str,
) -> None:
    port = free_port()
    cid = f"{prefix}-web"
    proc = background(
        "run", "--id", cid, "-p", f"127.0.0.1:{port}:80", "--dns", "127.0.0.1",
        "--stop-timeout", "1", "--rootfs", str(rootfs), "--", "httpd", "-f", "-p", "80", "-h", "/www",
    )  # fmt: skip
    _wait_running(cid, proc)
    assert _fetch(f"http://127.0.0.1:{port}/") == "hello from ctrnet\n"
    # httpd is PID 1 and ignores SIGTERM: after --stop-timeout it is killed, then torn down
    assert stop(proc) == 137
    assert not sandbox_leftovers()


def test_two_containers_on_one_network_reach_each_other_by_name(
    no_leftovers: Callable[[], list[str]],
    background: Callable[..., subprocess.Popen[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    rootfs: Path,
    subnet_factory: Callable[[], object],
    prefix: str,
) -> None:
    network = f"{prefix}net"
    made = ctrnet("network", "create", "--subnet", str(subnet_factory()), network)
    assert made.returncode == 0, made.stderr
    try:
        procs = {}
        for who in ("a", "b"):
            procs[who] = background(
                "run", "--id", f"{prefix}-{who}", "--name", f"{prefix}{who}", "--network", network,
                "--dns", "127.0.0.1", "--stop-timeout", "1", "--rootfs", str(rootfs),
                "--", "httpd", "-f", "-p", "80", "-h", "/www",
            )  # fmt: skip
            _wait_running(f"{prefix}-{who}", procs[who])
        for here, there in (("a", "b"), ("b", "a")):
            # busybox-static's wget crashes on non-loopback peers here; nc speaks HTTP fine
            request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {prefix}{there} 80"
            got = subprocess.run(
                ["runc", "exec", f"{prefix}-{here}", "sh", "-c", request],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert got.stdout.startswith("HTTP/1.1 200 OK"), got.stderr
            assert got.stdout.endswith("\n\nhello from ctrnet\n")
            pinged = subprocess.run(
                ["runc", "exec", f"{prefix}-{here}", "ping", "-c", "1", "-W", "5",
                 f"{prefix}{there}.{network}"],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert pinged.returncode == 0, pinged.stdout + pinged.stderr
        for proc in procs.values():
            stop(proc)
        assert not sandbox_leftovers()
    finally:
        for proc in procs.values():
            stop(proc)
        removed = ctrnet("network", "rm", network)
    assert removed.returncode == 0, removed.stderr


def test_run_bundle_leaves_the_users_bundle_alone_and_returns_the_exit_code(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    e2e_settings: Settings,
    rootfs: Path,
    tmp_path: Path,
    prefix: str,
) -> None:
    bundle = write_bundle(
        tmp_path / "bundle", rootfs, ["false"], env=("PATH=/bin", "MINE=1"), hostname="theirs"
    )
    before = (bundle / "config.json").read_bytes()
    done = ctrnet(
        "run", "--id", f"{prefix}-bun", "--hostname", f"{prefix}box", "--dns", "127.0.0.1",
        "--bundle", str(bundle), "--", "sh", "-c", "hostname; cat /etc/hosts; echo $MINE; exit 5",
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    name, rest = done.stdout.split("\n", 1)
    assert name == f"{prefix}box"  # the sandbox's hostname over the bundle's
    assert f"{prefix}box" in rest and rest.endswith("\n1\n")  # its hosts file; the bundle's env
    assert (bundle / "config.json").read_bytes() == before
    assert not list(Path(e2e_settings.data_root, "bundles").glob("*"))  # private copy removed
    assert not sandbox_leftovers()
