"""End-to-end fixtures: private ctrnet settings as environment, a busybox rootfs, leak checks."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager
from ctrnet.networks import NetworkStore
from tests.support import host
from tests.support.rootfs import make_rootfs

CTRNET = [sys.executable, "-m", "ctrnet"]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a ctrnet subprocess (or OCI hook) use ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    env.pop("NETCONFPATH", None)
    env.update(
        NETCONFPATH=settings.conf_dir,
        CNI_PATH=os.pathsep.join(settings.cni_path),
        CNI_CACHEDIR=settings.cache_dir,
        CTRNET_DATA_ROOT=settings.data_root,
        CTRNET_NETNS_DIR=settings.netns_dir,
        CTRNET_DEFAULT_BRIDGE=settings.default_bridge,
        CTRNET_DEFAULT_SUBNET=settings.default_subnet,
    )
    return env


def held_leases(prefix: str) -> list[str]:
    """host-local lease files (any network) naming a container ID with ``prefix``."""
    found: list[str] = []
    if not host.LEASE_ROOT.is_dir():
        return found
    for lease in host.LEASE_ROOT.glob("*/*"):
        if lease.name == "lock" or lease.name.startswith("last_reserved_ip"):
            continue
        with contextlib.suppress(OSError):
            if prefix in lease.read_text():
                found.append(f"lease {lease.parent.name}/{lease.name}")
    return found


def runc_containers(prefix: str) -> list[str]:
    proc = subprocess.run(["runc", "list", "-q"], capture_output=True, text=True, check=False)
    return [f"runc container {c}" for c in proc.stdout.split() if prefix in c]


def remove_default_network(settings: Settings) -> list[str]:
    """Undo what a test made under ``settings``: tear down any sandbox still recorded (each is
    reported), then remove the default network with its bridge and isolation rules."""
    left: list[str] = []
    manager = NetworkManager(settings)
    for sandbox in manager.list():
        left.append(f"record {sandbox.id}")
        try:
            manager.cleanup(sandbox.id)
        except CtrnetError as exc:
            left.append(f"teardown of {sandbox.id} failed: {exc}")
    store = NetworkStore(settings)
    default = store.default()
    if default is not None:
        try:
            store.remove(default.name, allow_default=True)
        except CtrnetError as exc:
            left.append(f"default network {default.name!r} not removed: {exc}")
    return left


@pytest.fixture
def e2e_settings(
    settings: Settings, subnet: ipaddress.IPv4Network, prefix: str
) -> Iterator[Settings]:
    """Private settings whose default network uses a fixture subnet and a prefixed bridge.

    Teardown removes that network (bridge, isolation rules) through the store, after tearing
    down any sandbox a failed test left, then checks that no lease, runc container or sandbox
    record of the test is left.
    """
    ours = settings.with_(default_subnet=str(subnet))
    yield ours
    left = runc_containers(prefix)
    left += remove_default_network(ours)
    left += held_leases(prefix)
    assert not left, f"test left resources behind: {left}"


@pytest.fixture
def ctrnet_env(e2e_settings: Settings) -> dict[str, str]:
    return settings_env(e2e_settings)


@pytest.fixture
def ctrnet(
    ctrnet_env: Mapping[str, str],
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ctrnet ARGS...`` with the test's settings; returns the completed process."""

    def call(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CTRNET, *args],
            env=dict(ctrnet_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return call


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    if shutil.which("runc") is None:
        pytest.fail("runc is not installed (apt-get install runc)")
    return make_rootfs(tmp_path / "rootfs")


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A TCP port free on 127.0.0.1 right now."""

    def take() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    return take


@pytest.fixture
def sandbox_leftovers(e2e_settings: Settings, prefix: str) -> Callable[[], list[str]]:
    """What of the test's sandboxes is still on the host (the default bridge aside, which the
    settings fixture removes at the end): namespaces, leases, records, runc containers, rules
    naming a sandbox."""

    def check() -> list[str]:
        bridge = e2e_settings.default_bridge
        left = [item for item in host.leftovers(prefix) if bridge not in item]
        left += held_leases(prefix) + runc_containers(prefix)
        records = Path(e2e_settings.data_root, "sandboxes")
        if records.is_dir():
            left += [f"record {p.name}" for p in records.iterdir()]
        return left

    return check


def stop(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """End a ctrnet we started: SIGTERM first (so it tears its sandbox down), SIGKILL last."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return proc.returncode
