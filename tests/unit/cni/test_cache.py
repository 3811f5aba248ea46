"""The result cache speaks libcni's cniCacheV1 both ways, and CNI_ARGS parsing like cnitool."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ctrnet._errors import ValidationError
from ctrnet.cni.args import parse_cni_args
from ctrnet.cni.cache import encode_entry, parse_entry, read_entry, scan_entries, write_entry

CONFIG = b'{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge"}]}'
# what libcni v1.2 writes for this attachment (Go's encoding/json: struct order, sorted maps)
GO_BYTES = (
    '{"kind":"cniCacheV1","containerId":"abc","config":"'
    + base64.b64encode(CONFIG).decode()
    + '","ifName":"eth0","networkName":"net","netns":"/var/run/netns/x",'
    '"cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAME","a\\u003cb"]],'
    '"capabilityArgs":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},'
    '"result":{"cniVersion":"1.0.0","interfaces":[{"mac":"aa","name":"eth0"}],'
    '"ips":[{"address":"10.1.0.2/24","interface":0}]}}'
).encode()


def test_written_bytes_match_libcni() -> None:
    data = encode_entry(
        network="net",
        container_id="abc",
        ifname="eth0",
        config=CONFIG,
        netns="/var/run/netns/x",
        args=[("IgnoreUnknown", "1"), ("K8S_POD_NAME", "a<b")],
        capability_args={
            "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]
        },
        result={
            "cniVersion": "1.0.0",
            "ips": [{"interface": 0, "address": "10.1.0.2/24"}],
            "interfaces": [{"name": "eth0", "mac": "aa"}],
        },
    )
    assert data == GO_BYTES


def test_libcni_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "results" / "net-abc-eth0"
    write_entry(str(path), GO_BYTES)
    entry, exists = read_entry(str(path))
    assert exists and entry is not None and not entry.legacy
    assert (entry.network, entry.container_id, entry.ifname) == ("net", "abc", "eth0")
    assert entry.netns == "/var/run/netns/x"
    assert entry.args == (("IgnoreUnknown", "1"), ("K8S_POD_NAME", "a<b"))
    assert entry.config == CONFIG
    assert entry.capability_args["portMappings"][0]["hostPort"] == 8080
    assert entry.result is not None and entry.result["ips"][0]["address"] == "10.1.0.2/24"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert [e.container_id for e in scan_entries(str(tmp_path))] == ["abc"]
    assert scan_entries(str(tmp_path), "other") == []


def test_legacy_and_broken_files() -> None:
    legacy = parse_entry(b'{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/8"}}', "p")
    assert legacy is not None and legacy.legacy and legacy.result is not None
    assert legacy.result["ip4"]["ip"] == "10.0.0.2/8"
    for bad in (b"", b"{", b"null", b'{"kind":"cniCacheV1","ifName":"eth0"}', b'{"x":1}'):
        assert parse_entry(bad, "p") is None


def test_missing_file(tmp_path: Path) -> None:
    assert read_entry(str(tmp_path / "nope")) == (None, False)
    assert scan_entries(str(tmp_path / "nope")) == []


def test_parse_cni_args_like_cnitool() -> None:
    assert parse_cni_args("A=1;B=two") == (("A", "1"), ("B", "two"))
    assert parse_cni_args("") == ()
    for bad in ("A", "A=", "=1", "A=1=2"):
        with pytest.raises(ValidationError, match="invalid CNI_ARGS pair"):
            parse_cni_args(bad)
