"""Each doctor check fails (or warns) with its fix when its precondition is broken; the broken
preconditions are injected (HostProbe, private dirs, fake plugins), the host is left alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.runtime.doctor import REQUIRED_PLUGINS, Check, HostProbe, run_checks

_PLUGIN = """#!/bin/sh
echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'
"""
_BROKEN = "#!/bin/sh\necho 'segfault' >&2\nexit 139\n"


def _script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def healthy(tmp_path: Path) -> Settings:
    plugins = tmp_path / "bin"
    plugins.mkdir()
    for name in REQUIRED_PLUGINS:
        _script(plugins / name, _PLUGIN)
    return Settings(
        conf_dir=str(tmp_path / "net.d"),
        cni_path=(str(plugins),),
        data_root=str(tmp_path / "data"),
        default_subnet="10.200.250.0/24",
    )


def _probe(tmp_path: Path, **changes: object) -> HostProbe:
    """A host where every precondition holds: root, iptables (nf_tables) and nft, runc, ctr,
    ip_forward on."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    found = {
        "iptables": _script(tools / "iptables", "#!/bin/sh\necho 'iptables v1.8.9 (nf_tables)'\n"),
        **{t: _script(tools / t, "#!/bin/sh\n") for t in ("nft", "runc", "ctr")},
    }
    forward = tmp_path / "ip_forward"
    forward.write_text("1\n")
    base: dict[str, object] = {
        "which": found.get,
        "euid": lambda: 0,
        "ip_forward": str(forward),
    }
    base.update(changes)
    return HostProbe(**base)  # type: ignore[arg-type]


def _check(checks: list[Check], name: str) -> Check:
    return next(c for c in checks if c.name == name)


def test_a_healthy_host_passes_every_check(healthy: Settings, tmp_path: Path) -> None:
    checks = run_checks(healthy, _probe(tmp_path))
    bad = [c for c in checks if c.status != "ok" and not c.name.startswith("plugin ")]
    assert bad == []
    assert all(_check(checks, f"plugin {p}").status == "ok" for p in REQUIRED_PLUGINS)


def _status(tmp_path: Path, text: str) -> str:
    path = tmp_path / "status"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("cap_eff", "status", "says"),
    [
        ("0000000000000000", "fail", "run ctrnet as root (sudo) or grant CAP_NET_ADMIN"),
        ("0000000000001000", "ok", ""),  # bit 12: CAP_NET_ADMIN
    ],
)
def test_privileges_without_root_need_cap_net_admin(
    healthy: Settings, tmp_path: Path, cap_eff: str, status: str, says: str
) -> None:
    probe = _probe(
        tmp_path, euid=lambda: 1000, proc_status=_status(tmp_path, f"CapEff:\t{cap_eff}\n")
    )
    check = _check(run_checks(healthy, probe), "privileges")
    assert check.status == status
    assert says in check.fix


def test_missing_iptables_fails(healthy: Settings, tmp_path: Path) -> None:
    found = _probe(tmp_path).which
    probe = _probe(tmp_path, which=lambda t: None if t == "iptables" else found(t))
    check = _check(run_checks(healthy, probe), "iptables")
    assert check.status == "fail"
    assert check.fix == "apt-get install iptables"


def test_nf_tables_backend_without_nft_warns(healthy: Settings, tmp_path: Path) -> None:
    found = _probe(tmp_path).which
    probe = _probe(tmp_path, which=lambda t: None if t == "nft" else found(t))
    checks = run_checks(healthy, probe)
    assert "backend: nf_tables" in _check(checks, "iptables").detail
    nft = _check(checks, "nft")
    assert (nft.status, nft.fix) == ("warn", "apt-get install nftables")


@pytest.mark.parametrize(("content", "says"), [("0\n", "sysctl -w"), (None, "/proc is mounted")])
def test_ip_forward_off_or_unreadable_warns(
    healthy: Settings, tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "forward"
    if content is not None:
        path.write_text(content)
    check = _check(run_checks(healthy, _probe(tmp_path, ip_forward=str(path))), "ip_forward")
    assert check.status == "warn"
    assert says in check.fix


def test_an_unusable_data_root_fails(healthy: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = healthy.with_(data_root=str(blocker / "data"))
    check = _check(run_checks(settings, _probe(tmp_path)), "data root")
    assert check.status == "fail"
    assert "--data-root / CTRNET_DATA_ROOT" in check.fix
    assert not (blocker / "data").exists()


def test_a_default_subnet_that_is_not_a_subnet_fails(healthy: Settings, tmp_path: Path) -> None:
    settings = healthy.with_(default_subnet="10.4.0.0/33")
    check = _check(run_checks(settings, _probe(tmp_path)), "default subnet")
    assert check.status == "fail"
    assert "'10.4.0.0/33' is not a subnet" in check.detail
    assert "CTRNET_DEFAULT_SUBNET" in check.fix


def test_a_plugin_failing_its_version_call_fails_with_its_own_fix(
    healthy: Settings, tmp_path: Path
) -> None:
    _script(Path(healthy.cni_path[0]) / "bridge", _BROKEN)
    check = _check(run_checks(healthy, _probe(tmp_path)), "plugin bridge")
    assert check.status == "fail"
    assert "fails its CNI VERSION call" in check.fix


@pytest.mark.parametrize(("tool", "package"), [("runc", "runc"), ("ctr", "containerd")])
def test_missing_runtimes_warn(healthy: Settings, tmp_path: Path, tool: str, package: str) -> None:
    found: Callable[[str], str | None] = _probe(tmp_path).which
    probe = _probe(tmp_path, which=lambda t: None if t == tool else found(t))
    check = _check(run_checks(healthy, probe), tool)
    assert (check.status, check.fix) == ("warn", f"apt-get install {package}")


def test_everything_broken_every_failure_says_how_to_fix_it(tmp_path: Path) -> None:
    settings = Settings(
        conf_dir=str(tmp_path / "nope" / "net.d"),
        cni_path=(str(tmp_path / "no-plugins"),),
        data_root=str(tmp_path / "nope" / "data"),
        default_subnet="127.0.0.0/24",
    )
    (tmp_path / "nope").write_text("")  # neither dir can be created
    probe = HostProbe(
        which=lambda t: None,
        euid=lambda: 1000,
        proc_status=_status(tmp_path, "CapEff:\t0\n"),
        ip_forward=str(tmp_path / "missing"),
    )
    checks = run_checks(settings, probe)
    failed = {c.name for c in checks if c.status == "fail"}
    assert {"privileges", "iptables", "conf dir", "data root", "default subnet"} <= failed
    assert {f"plugin {p}" for p in REQUIRED_PLUGINS} <= failed
    assert [c.name for c in checks if c.status != "ok" and not c.fix] == []
