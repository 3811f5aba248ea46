"""The generated config.json and bundle staging: what runc will see."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ctrnet._errors import ValidationError
from ctrnet.runtime.bundle import default_config, load_config, stage_bundle, with_process_args


def test_default_config_runs_the_command_in_its_own_namespaces() -> None:
    config = default_config(
        ["httpd", "-f"], rootfs="/srv/rootfs", env=["PATH=/bin"], hostname="web"
    )
    assert config["process"]["args"] == ["httpd", "-f"]
    assert config["process"]["env"] == ["PATH=/bin"]
    assert config["root"] == {"path": "/srv/rootfs", "readonly": False}
    assert config["hostname"] == "web"
    kinds = [ns["type"] for ns in config["linux"]["namespaces"]]
    assert sorted(kinds) == ["ipc", "mount", "network", "pid", "uts"]
    assert "CAP_NET_BIND_SERVICE" in config["process"]["capabilities"]["bounding"]
    assert "CAP_SYS_ADMIN" not in config["process"]["capabilities"]["bounding"]


def test_default_config_refuses_an_empty_command() -> None:
    with pytest.raises(ValidationError, match="no command"):
        default_config([], rootfs="/srv/rootfs")


def test_load_config_makes_root_path_absolute(tmp_path: Path) -> None:
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "config.json").write_text(json.dumps({"root": {"path": "rootfs"}}))
    assert load_config(tmp_path)["root"]["path"] == str(tmp_path / "rootfs")


def test_load_config_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=re.escape(f"{tmp_path}/config.json does not exist")):
        load_config(tmp_path)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"root": {"path": ""}}', '{"process": {}}'])
def test_load_config_refuses_what_is_not_an_oci_config(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(ValidationError, match=r"config\.json"):
        load_config(tmp_path)


def test_with_process_args_leaves_the_original_alone() -> None:
    config = default_config(["sh"], rootfs="/r")
    changed = with_process_args(config, ["echo", "hi"])
    assert changed["process"]["args"] == ["echo", "hi"]
    assert config["process"]["args"] == ["sh"]
    assert with_process_args(config, [])["process"]["args"] == ["sh"]


def test_stage_bundle_writes_the_config(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    config = default_config(["true"], rootfs=str(rootfs))
    staged = stage_bundle(tmp_path / "bundle", config)
    assert json.loads(Path(staged, "config.json").read_text()) == config


def test_stage_bundle_refuses_a_relative_or_missing_rootfs(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must be absolute"):
        stage_bundle(tmp_path / "b", default_config(["true"], rootfs="rootfs"))
    with pytest.raises(ValidationError, match="is not a directory"):
        stage_bundle(tmp_path / "b", default_config(["true"], rootfs=str(tmp_path / "nope")))
    assert not (tmp_path / "b" / "config.json").exists()
