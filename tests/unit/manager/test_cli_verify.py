"""``ctrnet verify`` end to end through the CLI, against a private conf dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def conflist(name: str, plugin: dict[str, object]) -> str:
    return json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [plugin]})


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    conf = tmp_path / "net.d"
    conf.mkdir()
    ipam = {"type": "host-local", "ranges": [[{"subnet": "10.200.1.0/24"}]]}
    (conf / "n1.conflist").write_text(
        conflist("n1", {"type": "bridge", "bridge": "x1", "ipam": ipam})
    )
    ipam2 = {"type": "host-local", "ranges": [[{"subnet": "10.200.2.0/24"}]]}
    (conf / "iv.conflist").write_text(
        conflist("iv", {"type": "ipvlan", "master": "", "ipam": ipam2})
    )
    (conf / "wn.conflist").write_text(
        conflist("wn", {"type": "nat", "ipam": {"subnet": "10.4.0.0/24"}})
    )
    return conf


def ctrnet(confdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NETCONFPATH": str(confdir),
        "CTRNET_DATA_ROOT": str(confdir.parent / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "ctrnet", "verify", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_ok_shows_which_network_gets_the_ip(confdir: Path) -> None:
    out = ctrnet(confdir, "-n", "iv", "--net", "n1", "--ip", "10.200.1.5", "-p", "8080:80")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "OK: Linux, networks iv as eth0, n1 as eth1 (ip 10.200.1.5)\n"


def test_default_network_is_planned_not_created(confdir: Path) -> None:
    out = ctrnet(confdir, "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["networks"][0]["name"] == "bridge"
    assert sorted(p.name for p in confdir.glob("*.conf*")) == [
        "iv.conflist",
        "n1.conflist",
        "wn.conflist",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "missing"], "network 'missing' not found"),
        (
            ["-n", "iv", "--mac-address", "02:00:00:00:00:01"],
            "not supported for --mac-address on network 'iv'",
        ),
        (["-n", "n1", "--ip", "10.9.9.9"], "--ip 10.9.9.9 is not inside a subnet"),
        (
            ["--hostname", "web", "--uts", "host"],
            "cannot set --hostname and/or --domainname with --uts=host",
        ),
        (["-n", "none,n1"], "mixed network modes"),
        (["-p", "1-3:1-2"], "invalid ranges specified"),
        (
            ["--platform", "windows", "-n", "wn", "--add-host", "a:1.2.3.4", "--dns", "1.1.1.1"],
            "not supported on Windows: [--dns --add-host]",
        ),
        (["--platform", "windows", "-n", "n1"], "network 'n1' has type 'bridge'"),
        (["--platform", "windows", "-n", "host"], "cannot use host networking on Windows"),
    ],
)
def test_errors_exit_2_with_the_message(confdir: Path, args: list[str], message: str) -> None:
    out = ctrnet(confdir, *args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith("Error: ") and message in out.stderr


def test_windows_nat_with_ports_is_ok(confdir: Path) -> None:
    out = ctrnet(confdir, "--platform", "windows", "-n", "wn", "-p", "8080:80")
    assert (out.returncode, out.stdout) == (0, "OK: Windows, networks wn as eth0\n")


def test_warnings_go_to_stderr(confdir: Path) -> None:
    out = ctrnet(confdir, "-n", "host", "-p", "80", "--dns-option", "ndots:1")
    assert out.returncode == 0
    assert out.stdout == "OK: Linux, mode host\n"
    assert out.stderr == "Warning: --publish is ignored with --network host\n"


def test_host_gateway_uses_the_flag(confdir: Path) -> None:
    out = ctrnet(confdir, "--add-host", "gw:host-gateway", "--host-gateway-ip", "192.168.5.2")
    assert out.returncode == 0, out.stderr
    bad = ctrnet(confdir, "--add-host", "gw:host-gateway", "--host-gateway-ip", "nope")
    assert bad.returncode == 2 and "invalid IP address 'nope'" in bad.stderr


def test_default_host_gateway_ip_is_a_host_ipv4_address() -> None:
    import ipaddress

    from ctrnet.cli._netflags import default_host_gateway_ip

    found = default_host_gateway_ip()
    if found is not None:  # a host without any non-loopback IPv4 address yields None
        addr = ipaddress.ip_address(found)
        assert addr.version == 4 and not addr.is_loopback


@pytest.mark.parametrize("platform", ["linux", "windows"])
def test_library_verify_is_one_call_and_creates_nothing(tmp_path: Path, platform: str) -> None:
    from ctrnet import NetworkManager, NetworkOptions, Settings, UnsupportedOption

    conf = tmp_path / "net.d"
    conf.mkdir()
    settings = Settings(conf_dir=str(conf), data_root=str(tmp_path / "data"), platform=platform)
    manager = NetworkManager(settings)
    mode = manager.verify(NetworkOptions.parse(publish=["8080:80"]))  # the default network
    assert mode.kind == "cni" and [a.ifname for a in mode.attachments] == ["eth0"]
    assert mode.network_names == (("bridge",) if platform == "linux" else ("nat",))
    if platform == "windows":
        with pytest.raises(UnsupportedOption, match=r"\[--hostname --dns\]"):
            manager.verify(NetworkOptions.parse(hostname="h", dns=["10.0.0.1"]))
    assert [p.name for p in conf.iterdir() if p.name != ".nerdctl.lock"] == []  # no network
    assert not (tmp_path / "data").exists()
