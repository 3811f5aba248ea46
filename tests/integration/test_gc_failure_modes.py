"""Unfriendly hosts: not root, a missing plugin, a read-only conf dir, a full data root. Each gives
a clear error and leaves nothing half done (no record, namespace, lease, rule or cache file)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from tests.support.reliability import cli, cli_argv, cli_env, managed_network, residue

pytestmark = pytest.mark.root


def _as_nobody(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            *cli_argv(settings, *args),
        ],
        capture_output=True,
        text=True,
        env=cli_env(settings),
        check=False,
        timeout=120,
    )


@contextlib.contextmanager
def _tmpfs(path: Path, size: str, *options: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
        check=True,
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_non_root_gets_a_clear_error_and_nothing_is_half_done(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        for d in (tmp_path, Path(settings.conf_dir)):  # nobody may read the config, no more
            d.chmod(0o755)
        Path(NetworkStore_file(settings, network)).chmod(0o644)
        done = _as_nobody(settings, "setup", sid, "-n", network)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("Error:") and "permission denied" in done.stderr.lower()
        gc = _as_nobody(settings, "gc")
        assert (
            gc.returncode != 0 and "Traceback" not in gc.stderr and gc.stderr.startswith("Error:")
        )
        assert residue(settings, prefix, network, subnet, bridge) == []


def NetworkStore_file(settings: Settings, network: str) -> str:
    from ctrnet.networks import NetworkStore

    return NetworkStore(settings).get(network).file


def test_missing_plugin_is_named_and_nothing_is_half_done(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with managed_network(settings, network, subnet) as bridge:
        partial_path = tmp_path / "bin"  # every plugin but firewall
        partial_path.mkdir()
        for plugin in ("bridge", "host-local", "portmap", "tuning"):
            os.symlink(f"/usr/lib/cni/{plugin}", partial_path / plugin)
        short = settings.with_(cni_path=(str(partial_path),))
        done = cli(short, "setup", sid, "-n", network)
        assert done.returncode == 3, done.stderr
        assert "CNI plugin 'firewall' not found" in done.stderr and "Traceback" not in done.stderr
        assert residue(settings, prefix, network, subnet, bridge) == []


def test_read_only_conf_dir_refuses_network_create_cleanly(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    ro = tmp_path / "ro-net.d"
    with _tmpfs(ro, "1m") as conf:
        subprocess.run(["mount", "-o", "remount,ro", str(conf)], check=True)
        ro_settings = settings.with_(conf_dir=str(conf))
        done = cli(ro_settings, "network", "create", f"{prefix}-net", "--subnet", str(subnet))
        assert done.returncode != 0
        assert done.stderr.startswith("Error:") and "Traceback" not in done.stderr
        assert "read-only" in done.stderr.lower() or "permission" in done.stderr.lower()
        assert os.listdir(conf) == []
    assert residue(settings, prefix, f"{prefix}-net", subnet) == []


def test_full_data_root_fails_setup_cleanly(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
) -> None:
    network, sid = f"{prefix}-net", f"{prefix}-sb"
    with (
        managed_network(settings, network, subnet) as bridge,
        _tmpfs(tmp_path / "full", "64k") as root,
    ):
        Path(root, "locks").mkdir()
        # fill it, leaving no room for a record
        with open(root / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
        full = settings.with_(data_root=str(root))
        done = cli(full, "setup", sid, "-n", network)
        assert done.returncode != 0
        assert done.stderr.startswith("Error:") and "Traceback" not in done.stderr
        assert "no space" in done.stderr.lower(), done.stderr
        assert not Path(root, "sandboxes", sid, "sandbox.json").exists()
        (root / "filler").unlink()
        assert residue(full, prefix, network, subnet, bridge) == []
        assert json.loads(cli(full, "gc", "--format", "json").stdout)["errors"] == []
    shutil.rmtree(tmp_path / "full", ignore_errors=True)
