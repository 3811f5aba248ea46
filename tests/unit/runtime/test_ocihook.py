"""The hook's inputs: OCI state, and sandbox options from ctrnet's or nerdctl's annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctrnet._errors import ValidationError
from ctrnet._settings import Settings
from ctrnet.manager.options import NetworkOptions
from ctrnet.runtime.ocihook import (
    ANN_OPTIONS,
    ANN_SANDBOX,
    create_runtime,
    hook_fragment,
    options_from_annotations,
    options_to_annotation,
    parse_state,
)


@pytest.mark.parametrize("data", [b"", b"[]", b'{"pid": 1}', b'{"id": "a", "annotations": "x"}'])
def test_bad_state_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError, match="OCI state"):
        parse_state(data)


def test_options_round_trip_through_the_annotation() -> None:
    opts = NetworkOptions.parse(
        networks=["n1", "n2"], publish=["127.0.0.1:8080:80/udp"], add_host=["db:10.1.1.1"],
        hostname="web", dns=["127.0.0.1"], mac_address="02:42:ac:11:00:02",
    )  # fmt: skip
    again = options_from_annotations({ANN_OPTIONS: options_to_annotation(opts)})
    assert again == opts


def test_nerdctl_annotations_are_understood() -> None:
    notes = {
        "nerdctl/networks": '["n1"]',
        "nerdctl/ports": json.dumps(
            [{"HostPort": 8080, "ContainerPort": 80, "Protocol": "tcp", "HostIP": "0.0.0.0"}]
        ),
        "nerdctl/hostname": "box",
        "nerdctl/extraHosts": '["db:10.1.1.1"]',
        "nerdctl/ip": "10.4.0.9",
    }
    opts = options_from_annotations(notes)
    assert opts.networks == ("n1",)
    assert [p.raw for p in opts.ports] == ["0.0.0.0:8080:80/tcp"]
    assert opts.hostname == "box"
    assert opts.ip == "10.4.0.9"
    assert [str(h) for h in opts.extra_hosts] == ["db:10.1.1.1"]


def test_a_broken_options_annotation_names_itself() -> None:
    with pytest.raises(ValidationError, match=ANN_OPTIONS):
        options_from_annotations({ANN_OPTIONS: '{"networks": 5, "bogus": 1}'})


def test_print_hooks_fragment_carries_settings_and_staged_files(tmp_path: Path) -> None:
    settings = Settings(conf_dir=str(tmp_path / "net.d"), data_root=str(tmp_path / "data"))
    fragment = hook_fragment(settings, "c1", NetworkOptions(hostname="web"), name="web")
    create = fragment["hooks"]["createRuntime"][0]
    assert create["args"][-2:] == ["oci-hook", "createRuntime"]
    assert f"NETCONFPATH={tmp_path / 'net.d'}" in create["env"]
    assert f"CTRNET_DATA_ROOT={tmp_path / 'data'}" in create["env"]
    assert fragment["hooks"]["poststop"][0]["args"][-1] == "poststop"
    assert fragment["annotations"][ANN_SANDBOX] == "c1"
    targets = {m["destination"]: Path(m["source"]) for m in fragment["mounts"]}
    assert sorted(targets) == ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]
    assert all(src.is_file() for src in targets.values())  # runc mounts them before the hook


def test_print_hooks_refuses_a_bad_id(tmp_path: Path) -> None:
    settings = Settings(data_root=str(tmp_path / "data"))
    with pytest.raises(ValidationError, match="invalid sandbox ID"):
        hook_fragment(settings, "../x", NetworkOptions())
    assert not (tmp_path / "data").exists()


def test_create_runtime_refuses_a_container_in_the_host_namespace(tmp_path: Path) -> None:
    settings = Settings(
        conf_dir=str(tmp_path / "net.d"),
        data_root=str(tmp_path / "data"),
        cache_dir=str(tmp_path / "cache"),
        netns_dir=str(tmp_path / "netns"),
    )
    state = parse_state(json.dumps({"id": "c1", "pid": os.getpid()}).encode())
    with pytest.raises(ValidationError, match="container c1 shares the host's network namespace"):
        create_runtime(settings, state)
    assert not any(Path(tmp_path, d).exists() for d in ("data", "cache", "netns"))


def test_create_runtime_names_a_pid_that_is_gone(tmp_path: Path) -> None:
    settings = Settings(data_root=str(tmp_path / "data"), netns_dir=str(tmp_path / "netns"))
    state = parse_state(json.dumps({"id": "c1", "pid": 2**22 + 1}).encode())
    with pytest.raises(ValidationError, match=f"container pid {2**22 + 1}"):
        create_runtime(settings, state)
    assert not (tmp_path / "data").exists()
