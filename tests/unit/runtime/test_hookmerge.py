"""``ctrnet oci-hook --merge BUNDLE``: the hooks go into the user's config.json, the rest stays."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import ValidationError
from ctrnet.runtime.hookmerge import check_bundle, merge_fragment_into

FOREIGN_HOOK = {"path": "/usr/bin/logger", "args": ["logger", "started"]}


def _user_config() -> dict[str, Any]:
    return {
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs", "readonly": True},
        "process": {"args": ["sh"], "env": ["PATH=/bin", "MINE=1"], "cwd": "/"},
        "hostname": "mine",
        "annotations": {"org.example/owner": "me"},
        "hooks": {"poststop": [FOREIGN_HOOK], "prestart": [FOREIGN_HOOK]},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/etc/hosts", "type": "bind", "source": "/srv/hosts"},
        ],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
    }


def _bundle(tmp_path: Path, config: dict[str, Any], mode: int = 0o640) -> Path:
    bundle = tmp_path / "bundle"
    bundle.mkdir(exist_ok=True)
    path = bundle / "config.json"
    path.write_text(json.dumps(config))
    path.chmod(mode)
    return bundle


def _merge(tmp_path: Path, bundle: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    env.update(NETCONFPATH=str(tmp_path / "net.d"), CTRNET_DATA_ROOT=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "ctrnet", "oci-hook", "--merge", str(bundle), *flags],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _config(bundle: Path) -> dict[str, Any]:
    return dict(json.loads((bundle / "config.json").read_text()))


def test_merge_adds_hooks_annotations_mounts_and_keeps_the_rest(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, _user_config())
    done = _merge(tmp_path, bundle, "--id", "c1", "--name", "web", "-p", "8080:80")
    assert done.returncode == 0, done.stderr
    assert f"merged into {bundle / 'config.json'}" in done.stderr
    got = _config(bundle)
    user = _user_config()
    for key in ("ociVersion", "root", "process", "hostname"):
        assert got[key] == user[key]  # root.path stays relative, process untouched
    assert got["hooks"]["prestart"] == [FOREIGN_HOOK]
    assert got["hooks"]["poststop"][0] == FOREIGN_HOOK
    assert got["hooks"]["poststop"][1]["args"][-2:] == ["oci-hook", "poststop"]
    assert got["hooks"]["createRuntime"][0]["args"][-2:] == ["oci-hook", "createRuntime"]
    assert got["annotations"]["org.example/owner"] == "me"
    # no --hostname: the bundle's own hostname is the sandbox's (hosts/hostname files agree)
    assert json.loads(got["annotations"]["ctrnet/network-options"])["hostname"] == "mine"
    assert got["annotations"]["ctrnet/sandbox-id"] == "c1"
    assert json.loads(got["annotations"]["ctrnet/network-options"])["publish"] == ["8080:80"]
    by_dest = {m["destination"]: m for m in got["mounts"]}
    assert by_dest["/proc"] == user["mounts"][0]
    staged = tmp_path / "data" / "oci-hooks" / "c1"
    assert by_dest["/etc/hosts"]["source"] == str(staged / "hosts")  # ours replaces theirs
    assert [m["destination"] for m in got["mounts"]].count("/etc/hosts") == 1
    assert {"type": "network"} in got["linux"]["namespaces"]  # the hook needs its own netns
    assert got["linux"]["namespaces"][:2] == user["linux"]["namespaces"]
    assert stat.S_IMODE((bundle / "config.json").stat().st_mode) == 0o640
    assert (staged / "resolv.conf").is_file()


def test_merging_again_replaces_rather_than_repeats(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, _user_config())
    assert _merge(tmp_path, bundle, "--id", "c1", "-p", "8080:80").returncode == 0
    again = _merge(tmp_path, bundle, "--id", "c1", "-p", "9090:80")
    assert again.returncode == 0, again.stderr
    got = _config(bundle)
    assert len(got["hooks"]["createRuntime"]) == 1
    assert got["hooks"]["poststop"][0] == FOREIGN_HOOK and len(got["hooks"]["poststop"]) == 2
    assert len(got["mounts"]) == 4  # /proc + our three
    assert json.loads(got["annotations"]["ctrnet/network-options"])["publish"] == ["9090:80"]
    assert got["linux"]["namespaces"].count({"type": "network"}) == 1


def test_a_config_joining_another_network_namespace_is_refused_untouched(tmp_path: Path) -> None:
    config = _user_config()
    config["linux"]["namespaces"].append({"type": "network", "path": "/run/netns/other"})
    bundle = _bundle(tmp_path, config)
    before = (bundle / "config.json").read_bytes()
    done = _merge(tmp_path, bundle, "--id", "c1")
    assert done.returncode == 2
    assert "joins the network namespace /run/netns/other" in done.stderr
    assert (bundle / "config.json").read_bytes() == before
    assert not (tmp_path / "data").exists()  # no staged files either


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        ("{not json", "is not a readable JSON OCI config"),
        ('{"ociVersion": "1.0.2"}', "has no root"),
        ('{"root": {"path": "r"}, "mounts": {}}', "mounts must be a JSON array"),
    ],
)
def test_broken_bundles_are_refused_naming_the_file(
    tmp_path: Path, content: str | None, says: str
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    if content is not None:
        (bundle / "config.json").write_text(content)
    with pytest.raises(ValidationError, match=says) as caught:
        check_bundle(bundle)
    assert str(bundle / "config.json") in str(caught.value)


def test_merge_needs_an_id(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, _user_config())
    done = _merge(tmp_path, bundle)
    assert done.returncode == 2
    assert "--merge needs --id ID" in done.stderr
    assert _config(bundle) == _user_config()


def test_a_config_already_with_a_new_network_namespace_keeps_it_once() -> None:
    config = _user_config()
    config["linux"]["namespaces"].append({"type": "network"})
    before = json.loads(json.dumps(config))
    got = merge_fragment_into(config, {"hooks": {}, "annotations": {}, "mounts": []})
    assert got["linux"]["namespaces"] == before["linux"]["namespaces"]
    assert config == before  # the input is not modified


def test_hostname_flag_sets_the_config_hostname_and_a_uts_namespace(tmp_path: Path) -> None:
    config = _user_config()
    config["linux"]["namespaces"] = [{"type": "mount"}]
    bundle = _bundle(tmp_path, config)
    done = _merge(tmp_path, bundle, "--id", "c1", "--hostname", "web1")
    assert done.returncode == 0, done.stderr
    got = _config(bundle)
    assert got["hostname"] == "web1"
    assert json.loads(got["annotations"]["ctrnet/network-options"])["hostname"] == "web1"
    assert got["linux"]["namespaces"] == [{"type": "mount"}, {"type": "network"}, {"type": "uts"}]
