"""Sandbox IDs and names, records on disk, hosts sync across records, the inspect view."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctrnet._errors import AmbiguousReference, SandboxNotFound, ValidationError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, Sandbox
from ctrnet.manager.hostsync import create_hosts_file, sync
from ctrnet.manager.records import (
    AttachmentRecord,
    RecordStore,
    SandboxRecord,
    validate_sandbox_id,
    validate_sandbox_name,
)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "a/b",
        "..",
        "a..b",
        "../etc",
        "a\0b",
        "a\nb",
        "a b",
        "a;b",
        "$(x)",
        "a`b",
        "-a",
        "x" * 77,
    ],
)
def test_unsafe_sandbox_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="invalid sandbox ID") as info:
        validate_sandbox_id(bad)
    assert info.value.option == "sandbox_id"


@pytest.mark.parametrize("good", ["a", "web-1", "c.d_e", "0" * 64, "x" * 76])
def test_container_like_ids_are_accepted(good: str) -> None:
    assert validate_sandbox_id(good) == good


@pytest.mark.parametrize("bad", ["", "a/b", "a..b", ".x", "a b", "a;b", "x" * 129])
def test_unsafe_names_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="invalid sandbox name"):
        validate_sandbox_name(bad)


def test_setup_with_a_bad_id_or_name_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(conf_dir=str(tmp_path / "conf"), data_root=str(tmp_path / "data"))
    manager = NetworkManager(settings)
    with pytest.raises(ValidationError):
        manager.setup("../evil")
    with pytest.raises(ValidationError):
        manager.setup("ok", name="bad/name")
    assert not (tmp_path / "data").exists()


def _record(sid: str, name: str, network: str, ip: str, **kw: object) -> SandboxRecord:
    return SandboxRecord(
        id=sid,
        name=name,
        mode="cni",
        state="ready",
        hostname=sid[:12],
        networks=[
            AttachmentRecord(
                network=network,
                network_id="f" * 64,
                ifname="eth0",
                conflist="{}",
                ips=[f"{ip}/24"],
                gateways=["10.9.0.1"],
                mac="02:00:00:00:00:01",
                args=[("IP", ip)],
                capability_args={"portMappings": [{"hostPort": 8080, "containerPort": 80}]},
            )
        ],
        **kw,  # type: ignore[arg-type]
    )


def test_record_round_trips_with_everything_cleanup_needs(tmp_path: Path) -> None:
    store = RecordStore(str(tmp_path))
    record = _record("s1", "web", "n1", "10.9.0.5", netns="/run/netns/x", netns_owned=True)
    store.save(record)
    text = (tmp_path / "sandboxes" / "s1" / "sandbox.json").read_text()
    assert json.loads(text)["networks"][0]["args"] == [["IP", "10.9.0.5"]]
    loaded = store.load("s1")
    assert loaded == record
    assert store.ids() == ["s1"]
    store.remove("s1")
    store.remove("s1")
    assert store.load("s1") is None


def test_hosts_sync_rewrites_peers_in_place_and_skips_other_networks(tmp_path: Path) -> None:
    store = RecordStore(str(tmp_path))
    a = _record("a1", "alpha", "n1", "10.9.0.2")
    b = _record("b1", "beta", "n1", "10.9.0.3")
    c = _record("c1", "gamma", "n2", "10.8.0.4")
    for r in (a, b, c):
        r.hosts_path = str(store.dir_of(r.id) / "hosts")
        store.save(r)
        create_hosts_file(store, r)
    inode = os.stat(a.hosts_path).st_ino
    with open(a.hosts_path, "a") as fh:
        fh.write("10.0.0.9 mine\n")  # a user line outside the block stays
    assert sync(store, ["n1"]) == 2
    text = Path(a.hosts_path).read_text()
    assert "10.9.0.3        b1 b1.n1 beta beta.n1" in text
    assert "gamma" not in text and "10.0.0.9 mine" in text
    assert os.stat(a.hosts_path).st_ino == inode
    assert "alpha" not in Path(c.hosts_path).read_text()


def test_get_by_id_name_or_unique_prefix(tmp_path: Path) -> None:
    settings = Settings(conf_dir=str(tmp_path / "conf"), data_root=str(tmp_path / "data"))
    store = RecordStore(settings.data_root)
    store.save(_record("abc123", "web", "n1", "10.9.0.2"))
    store.save(_record("abd456", "db", "n1", "10.9.0.3"))
    manager = NetworkManager(settings)
    assert manager.get("abc123").name == "web"
    assert manager.get("db").id == "abd456"
    assert manager.get("abc").id == "abc123"
    with pytest.raises(AmbiguousReference):
        manager.get("ab")
    with pytest.raises(SandboxNotFound):
        manager.get("zzz")
    assert [s.id for s in manager.list()] == ["abc123", "abd456"]


def test_inspect_is_docker_shaped() -> None:
    record = _record("abc123", "web", "n1", "10.9.0.2", netns="/run/netns/x")
    record.ports = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "0.0.0.0"}]
    view = Sandbox.from_record(record).inspect()
    settings = view["NetworkSettings"]
    assert settings["SandboxKey"] == "/run/netns/x"
    assert settings["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    net = settings["Networks"]["n1"]
    assert (net["IPAddress"], net["IPPrefixLen"], net["Gateway"]) == ("10.9.0.2", 24, "10.9.0.1")
    assert net["MacAddress"] == "02:00:00:00:00:01" and net["NetworkID"] == "f" * 64
