"""``ctrnet cni ...`` as a cnitool drop-in, driven through its environment like cnitool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ctrnet.cli.cni import cnitool_container_id
from tests.unit.cni.conftest import Lab


def run(lab: Lab, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(NETCONFPATH=str(lab.root / "net.d"), CNI_PATH=str(lab.bin))
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ctrnet", "cni", *args],
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )


def write_conf(lab: Lab, on: dict[str, Any] | None = None) -> None:
    conf = lab.conf(
        {"type": "t1", "testplugin": {"on": on or {}}},
        {"type": "t2", "capabilities": {"portMappings": True}},
        name="clinet",
    )
    (lab.root / "net.d").mkdir(exist_ok=True)
    (lab.root / "net.d" / "10-clinet.conflist").write_bytes(conf.data)


def test_add_check_del_with_cnitool_environment(lab: Lab) -> None:
    write_conf(lab)
    caps = '{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}'
    env = {"CNI_CACHEDIR": str(lab.cache), "CAP_ARGS": caps, "CNI_ARGS": "A=1;B=2"}
    added = run(lab, "add", "clinet", "relative/ns", CNI_IFNAME="net1", **env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["ips"][0]["address"] == "10.99.0.2/24"
    netns = str(Path("relative/ns").absolute())
    cid = cnitool_container_id(netns)
    first, second = lab.calls()
    assert first["env"]["CNI_CONTAINERID"] == cid
    assert first["env"]["CNI_NETNS"] == netns
    assert first["env"]["CNI_IFNAME"] == "net1"
    assert first["env"]["CNI_ARGS"] == "IgnoreUnknown=1;A=1;B=2"
    assert second["stdin"]["runtimeConfig"] == json.loads(caps)
    assert lab.cache_files() == [f"clinet-{cid}-net1"]
    checked = run(lab, "check", "clinet", "relative/ns", "-i", "net1", **env)
    assert checked.returncode == 0, checked.stderr
    deleted = run(
        lab, "del", "clinet", "relative/ns", "--ifname", "net1", CNI_CACHEDIR=str(lab.cache)
    )
    assert deleted.returncode == 0, deleted.stderr
    assert lab.cache_files() == [] and lab.held() == []


def test_container_id_from_env_and_cache_dir_flag(lab: Lab) -> None:
    write_conf(lab)
    cache = lab.root / "other-cache"
    added = run(lab, "add", "clinet", "/x/ns", "--cache-dir", str(cache), CNI_CONTAINERID="mine")
    assert added.returncode == 0, added.stderr
    assert os.listdir(cache / "results") == ["clinet-mine-eth0"]
    assert run(lab, "gc", "clinet", "/x/ns", "--cache-dir", str(cache)).returncode == 0
    assert os.listdir(cache / "results") == []


def test_plugin_error_is_one_clear_line(lab: Lab) -> None:
    write_conf(lab, {"ADD": {"error": {"code": 7, "msg": "bad subnet"}}})
    out = run(lab, "add", "clinet", "/x/ns", CNI_CACHEDIR=str(lab.cache))
    assert out.returncode != 0 and out.stdout == ""
    [line] = out.stderr.splitlines()
    assert line.startswith("Error: plugin 't1' network 'clinet' failed (ADD): bad subnet")
    assert "[CNI code 7]" in line


def test_bad_environment_is_refused(lab: Lab) -> None:
    write_conf(lab)
    out = run(lab, "add", "clinet", "/x/ns", CNI_ARGS="novalue", CNI_CACHEDIR=str(lab.cache))
    assert out.returncode == 2 and "invalid CNI_ARGS pair 'novalue'" in out.stderr
    out = run(lab, "add", "clinet", "/x/ns", CAP_ARGS="[1]", CNI_CACHEDIR=str(lab.cache))
    assert out.returncode == 2 and "CAP_ARGS must be a JSON object" in out.stderr
    assert lab.calls() == []
    out = run(lab, "del", "nosuch", "/x/ns")
    assert out.returncode == 3 and "no network configuration named 'nosuch'" in out.stderr


def test_status_and_version(lab: Lab) -> None:
    write_conf(lab)
    assert run(lab, "status", "clinet", "/x").returncode == 0
    out = run(lab, "version", "clinet")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["t1"]["supportedVersions"][-1] == "1.1.0"


def test_container_id_is_cnitools() -> None:
    # printf %s /var/run/netns/cni-1234 | sha512sum | cut -c1-20
    assert cnitool_container_id("/var/run/netns/cni-1234") == "cnitool-c6dc1cd4f4813f5129a0"
    # made absolute and cleaned first, as cnitool's filepath.Abs does
    assert cnitool_container_id("/run/netns/../netns/./a") == "cnitool-a145bc1ace582bff43bd"


def test_plugin_failure_with_multiline_stderr_is_still_one_line(lab: Lab) -> None:
    write_conf(lab, {"ADD": {"exit": 3, "stderr": "first problem\n\n  second problem\n"}})
    out = run(lab, "add", "clinet", "/x/ns", CNI_CACHEDIR=str(lab.cache))
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.splitlines() == [
        "Error: plugin 't1' network 'clinet' failed (ADD): exited with status 3 and printed no "
        "error object; stderr: first problem | second problem"
    ]
    assert lab.cache_files() == [] and lab.held() == []


def test_add_of_a_020_list_without_ips_still_prints_the_result(lab: Lab) -> None:
    result = {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0"}]}
    conf = lab.conf(
        {"type": "t1", "testplugin": {"on": {"ADD": {"result": result}}}},
        version="0.2.0",
        name="clinet",
    )
    (lab.root / "net.d").mkdir()
    (lab.root / "net.d" / "10-clinet.conflist").write_bytes(conf.data)
    out = run(lab, "add", "clinet", "/x/ns", CNI_CACHEDIR=str(lab.cache))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["interfaces"] == [{"name": "eth0"}]
    assert run(lab, "del", "clinet", "/x/ns", CNI_CACHEDIR=str(lab.cache)).returncode == 0
    assert lab.cache_files() == []
