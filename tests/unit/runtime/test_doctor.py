"""``ctrnet doctor``: what it reports and its exit status, against fake plugin dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ctrnet.runtime.doctor import REQUIRED_PLUGINS

_PLUGIN = """#!/bin/sh
echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'
"""


def _doctor(tmp_path: Path, cni_path: Path, **env: str) -> tuple[int, dict[str, Any]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    base.pop("NETCONFPATH", None)
    base.update(
        NETCONFPATH=str(tmp_path / "net.d"),
        CNI_PATH=str(cni_path),
        CTRNET_DATA_ROOT=str(tmp_path / "data"),
        CTRNET_DEFAULT_SUBNET="10.200.250.0/24",
    )
    base.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "ctrnet", "doctor", "--format", "json"],
        capture_output=True,
        text=True,
        env=base,
        check=False,
    )
    return proc.returncode, json.loads(proc.stdout)


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in report["checks"]}


def _fake_plugins(directory: Path, names: tuple[str, ...]) -> Path:
    directory.mkdir()
    for name in names:
        path = directory / name
        path.write_text(_PLUGIN)
        path.chmod(0o755)
    return directory


def test_present_plugins_report_their_versions(tmp_path: Path) -> None:
    plugins = _fake_plugins(tmp_path / "bin", REQUIRED_PLUGINS)
    _, report = _doctor(tmp_path, plugins)
    checks = _by_name(report)
    for name in REQUIRED_PLUGINS:
        assert checks[f"plugin {name}"]["status"] == "ok"
        assert "1.0.0" in checks[f"plugin {name}"]["detail"]
    assert checks["plugin macvlan"]["status"] == "warn"  # optional
    assert checks["conf dir"]["status"] == "ok"
    assert checks["default subnet"]["status"] == "ok"


def test_missing_plugins_fail_with_a_fix(tmp_path: Path) -> None:
    plugins = _fake_plugins(tmp_path / "bin", ("host-local",))
    code, report = _doctor(tmp_path, plugins)
    assert code == 1
    assert report["ok"] is False
    bridge = _by_name(report)["plugin bridge"]
    assert bridge["status"] == "fail"
    assert str(plugins) in bridge["detail"]
    assert "containernetworking-plugins" in bridge["fix"]
    assert _by_name(report)["plugin host-local"]["status"] == "ok"


def test_a_default_subnet_on_a_host_address_fails(tmp_path: Path) -> None:
    plugins = _fake_plugins(tmp_path / "bin", REQUIRED_PLUGINS)
    code, report = _doctor(tmp_path, plugins, CTRNET_DEFAULT_SUBNET="127.0.0.0/24")
    check = _by_name(report)["default subnet"]
    assert code == 1
    assert check["status"] == "fail"
    assert "127.0.0.0/24 overlaps" in check["detail"]
    assert "CTRNET_DEFAULT_SUBNET" in check["fix"]


def test_an_unusable_conf_dir_fails(tmp_path: Path) -> None:
    plugins = _fake_plugins(tmp_path / "bin", REQUIRED_PLUGINS)
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, report = _doctor(tmp_path, plugins, NETCONFPATH=str(blocker / "net.d"))
    check = _by_name(report)["conf dir"]
    assert code == 1
    assert check["status"] == "fail"
    assert "--cni-netconfpath" in check["fix"]
    assert not (blocker / "net.d").exists()


def test_table_output_lists_fixes(tmp_path: Path) -> None:
    plugins = _fake_plugins(tmp_path / "bin", ())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    env.update(NETCONFPATH=str(tmp_path / "net.d"), CNI_PATH=str(plugins))
    proc = subprocess.run(
        [sys.executable, "-m", "ctrnet", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert "plugin bridge: install containernetworking-plugins" in proc.stdout
    assert "check(s) failed" in proc.stdout
