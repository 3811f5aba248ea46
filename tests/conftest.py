"""Fixtures shared by every suite: isolated directories, unique names, free subnets, leak checks."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from tests.support import host

CNI_BIN = "/usr/lib/cni"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # no geteuid on Windows


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT and Path(CNI_BIN, "bridge").exists():
        return
    skip = pytest.mark.skip(reason="needs root and containernetworking-plugins in /usr/lib/cni")
    for item in items:
        if "root" in item.keywords or "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cni_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the caller's CNI or ctrnet environment."""
    for key in list(os.environ):
        if key.startswith(("CNI_", "CTRNET_")) or key in ("NETCONFPATH", "CAP_ARGS"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def prefix() -> str:
    """A short unique name prefix (fits in a 15-character link name with room to spare)."""
    return "ct" + secrets.token_hex(3)


@pytest.fixture
def settings(tmp_path: Path, prefix: str) -> Settings:
    """Settings pointing at private conf, cache and data directories."""
    conf = tmp_path / "net.d"
    conf.mkdir()
    return Settings(
        conf_dir=str(conf),
        cni_path=(CNI_BIN,),
        cache_dir=str(tmp_path / "cache"),
        data_root=str(tmp_path / "data"),
        default_bridge=f"{prefix}d0",
    )


@pytest.fixture
def subnet_factory() -> Iterator[Callable[[], ipaddress.IPv4Network]]:
    """Hands out /24s from ``host.TEST_RANGE`` that no host route uses and no other test run
    holds (``host.reserve_subnet``)."""
    held: list[Path] = []

    def take() -> ipaddress.IPv4Network:
        reserved = host.reserve_subnet()
        if reserved is None:
            raise RuntimeError("no free test subnet")
        net, marker = reserved
        held.append(marker)
        return net

    yield take
    for marker in held:
        marker.unlink(missing_ok=True)


@pytest.fixture
def subnet(subnet_factory: Callable[[], ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    return subnet_factory()


@pytest.fixture
def netns_factory(prefix: str) -> Iterator[Callable[[], str]]:
    """Creates named network namespaces (``<prefix>-nsN``) with lo up; all removed at teardown."""
    made: list[str] = []

    def make() -> str:
        name = f"{prefix}-ns{len(made)}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        made.append(name)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        return f"/run/netns/{name}"

    yield make
    for name in reversed(made):
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(["ip", "netns", "delete", name], check=True, capture_output=True)


@pytest.fixture
def no_leftovers(prefix: str) -> Iterator[Callable[[], list[str]]]:
    """Asserts at teardown that nothing carrying the test's prefix stayed on the host.

    Tests call the yielded function for an earlier check of their own.
    """

    def check() -> list[str]:
        return host.leftovers(prefix)

    yield check
    left = check()
    assert not left, f"test left resources behind: {left}"
    _remove_empty_lease_dirs(prefix)


def _remove_empty_lease_dirs(prefix: str) -> None:
    """Drop host-local's directories of this test's networks once they hold no lease.

    ``network rm`` keeps them on purpose (another allocator may wait on their lock file); a test's
    networks are unique to it, so nothing else can be waiting here.
    """
    if not host.LEASE_ROOT.is_dir():
        return
    for d in host.LEASE_ROOT.iterdir():
        if prefix in d.name and d.is_dir() and not host.leases(d.name):
            shutil.rmtree(d, ignore_errors=True)
