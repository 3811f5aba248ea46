"""The CNI facade against the test plugin: what each operation sends and how failures end."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import (
    CtrnetError,
    MultipleErrors,
    NotFoundError,
    OperationNotSupported,
    PluginError,
    PluginExecError,
    PluginNotFound,
    PluginTimeout,
    StorageError,
    ValidationError,
)
from ctrnet.cni import CNI, GCAttachment, NetworkConfigList, PluginConfig, RuntimeConf
from tests.support.testplugin import install
from tests.unit.cni.conftest import Lab

Three = Callable[..., NetworkConfigList]
PORTS = {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}


def rt(netns: str = "/proc/self/ns/net", **kw: Any) -> RuntimeConf:
    base: dict[str, Any] = {"container_id": "c1", "netns": netns, "ifname": "eth0"}
    base.update(kw)
    return RuntimeConf(**base)


# --- ADD -----------------------------------------------------------------------------------------


def test_add_runs_chain_in_order_and_chains_results(lab: Lab, three: Three) -> None:
    conf = three()
    os.environ["TESTPLUGIN_MARK"] = "inherited"
    try:
        result = lab.cni.add(
            conf, rt(args=(("K8S_POD_NAME", "web"),), capability_args={**PORTS, "mac": "x"})
        )
    finally:
        del os.environ["TESTPLUGIN_MARK"]
    calls = lab.calls()
    assert [(c["command"], c["type"]) for c in calls] == [
        ("ADD", "t1"),
        ("ADD", "t2"),
        ("ADD", "t3"),
    ]
    first, second, third = calls
    assert first["env"] == {
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": "c1",
        "CNI_NETNS": "/proc/self/ns/net",
        "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=web",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": f"{lab.root / 'empty'}:{lab.bin}",
    }
    assert first["inherited"] == "inherited"
    assert "prevResult" not in first["stdin"]
    assert first["stdin"]["name"] == "testnet" and first["stdin"]["cniVersion"] == "1.0.0"
    assert second["stdin"]["prevResult"]["ips"][0]["address"] == "10.99.0.2/24"
    # only the capability t2 declares true, and only what the caller gave
    assert second["stdin"]["runtimeConfig"] == PORTS
    assert "runtimeConfig" not in first["stdin"] and "runtimeConfig" not in third["stdin"]
    assert str(result.ips[0].address) == "10.99.0.2/24"
    assert result.interfaces[0].name == "eth0"


def test_add_caches_in_libcni_format(lab: Lab, three: Three) -> None:
    conf = three()
    lab.cni.add(conf, rt(args=(("A", "b"),), capability_args=PORTS))
    assert lab.cache_files() == ["testnet-c1-eth0"]
    path = lab.cache / "results" / "testnet-c1-eth0"
    entry = json.loads(path.read_bytes())
    assert list(entry) == [
        "kind",
        "containerId",
        "config",
        "ifName",
        "networkName",
        "netns",
        "cniArgs",
        "capabilityArgs",
        "result",
    ]
    assert entry["kind"] == "cniCacheV1"
    assert base64.b64decode(entry["config"]) == conf.data
    assert entry["cniArgs"] == [["IgnoreUnknown", "1"], ["A", "b"]]
    assert entry["capabilityArgs"] == PORTS
    assert entry["result"]["ips"][0]["address"] == "10.99.0.2/24"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    cached = lab.cni.cached_result(conf, rt())
    assert cached is not None and str(cached.ips[0].address) == "10.99.0.2/24"
    [att] = lab.cni.cached_attachments("testnet")
    assert (att.container_id, att.ifname, att.capability_args) == ("c1", "eth0", PORTS)


def test_failed_add_in_third_plugin_deletes_whole_list(lab: Lab, three: Three) -> None:
    conf = three({"t3": {"ADD": {"error": {"code": 11, "msg": "try later", "details": "busy"}}}})
    with pytest.raises(PluginError) as info:
        lab.cni.add(conf, rt(capability_args=PORTS))
    err = info.value
    assert (err.plugin, err.network, err.command, err.code) == ("t3", "testnet", "ADD", 11)
    assert "try later" in str(err) and "busy" in str(err)
    assert lab.summary() == [
        ("ADD", "t1"),
        ("ADD", "t2"),
        ("ADD", "t3"),
        ("DEL", "t3"),
        ("DEL", "t2"),
        ("DEL", "t1"),
    ]
    dels = lab.calls()[3:]
    assert all(c["stdin"]["prevResult"]["ips"] for c in dels)  # what the chain had produced
    assert dels[1]["stdin"]["runtimeConfig"] == PORTS
    assert lab.held() == [] and lab.cache_files() == []


def test_failed_add_reports_cleanup_failures_too(lab: Lab, three: Three) -> None:
    conf = three({"t3": {"ADD": {"exit": 1}}, "t1": {"DEL": {"error": {"code": 999, "msg": "no"}}}})
    with pytest.raises(PluginExecError) as info:
        lab.cni.add(conf, rt())
    assert info.value.plugin == "t3"
    assert any("cleanup after the failed ADD" in n for n in info.value.__notes__)


def test_missing_plugin_fails_before_anything_runs(lab: Lab) -> None:
    conf = lab.conf({"type": "t1"}, {"type": "nosuch"})
    with pytest.raises(PluginNotFound, match="'nosuch' not found"):
        lab.cni.add(conf, rt())
    assert lab.calls() == []


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"container_id": ""}, "container ID is empty"),
        ({"container_id": "../x"}, "invalid container ID"),
        ({"ifname": "a" * 16}, "longer than 15"),
        ({"ifname": "a b"}, "whitespace"),
        ({"ifname": "a/b"}, "'/'"),
        ({"args": (("K", "a;b"),)}, "contains ';'"),
        ({"args": (("K=", "v"),)}, "contains '='"),
        ({"args": (("", "v"),)}, "key is empty"),
        ({"netns": ""}, "network namespace"),
    ],
)
def test_bad_runtime_conf_refused_before_exec(
    lab: Lab, three: Three, kw: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        lab.cni.add(three(), rt(**kw))
    assert lab.calls() == [] and lab.cache_files() == []


# --- plugin failures -----------------------------------------------------------------------------


def one(lab: Lab, action: dict[str, Any], command: str = "ADD") -> NetworkConfigList:
    return lab.conf({"type": "t1", "testplugin": {"on": {command: action}}})


def test_crash_is_reported_with_signal(lab: Lab) -> None:
    with pytest.raises(PluginExecError, match="killed by SIGSEGV"):
        lab.cni.add(one(lab, {"crash": True}), rt())


def test_exit_without_output_keeps_stderr(lab: Lab) -> None:
    with pytest.raises(PluginExecError) as info:
        lab.cni.add(one(lab, {"exit": 2, "stderr": "disk on fire"}), rt())
    assert "exited with status 2" in str(info.value)
    assert info.value.stderr == "disk on fire" and "disk on fire" in str(info.value)


def test_error_with_garbage_stdout(lab: Lab) -> None:
    with pytest.raises(PluginExecError, match="not a CNI error object: '<html>'"):
        lab.cni.add(one(lab, {"garbage": "<html>", "exit": 1}), rt())


def test_garbage_result_fails_add_and_cleans_up(lab: Lab) -> None:
    conf = one(lab, {"garbage": "not json"})
    with pytest.raises(PluginExecError, match="invalid JSON"):
        lab.cni.add(conf, rt())
    assert lab.summary() == [("ADD", "t1"), ("DEL", "t1")]
    assert lab.cache_files() == []


def test_malformed_result_fails_add(lab: Lab) -> None:
    conf = one(lab, {"result": {"cniVersion": "1.0.0", "ips": [{"address": "nope"}]}})
    with pytest.raises(Exception, match="address"):
        lab.cni.add(conf, rt())
    assert lab.summary() == [("ADD", "t1"), ("DEL", "t1")] and lab.cache_files() == []


def test_result_without_version_gets_config_version(lab: Lab) -> None:
    conf = one(lab, {"result": {"ips": [{"address": "10.1.0.5/16"}]}})
    result = lab.cni.add(conf, rt())
    assert str(result.ips[0].address) == "10.1.0.5/16"
    entry = json.loads((lab.cache / "results" / "testnet-c1-eth0").read_bytes())
    assert entry["result"]["cniVersion"] == "1.0.0"


def test_hang_is_killed_after_timeout(lab: Lab) -> None:
    cni = CNI((str(lab.bin),), cache_dir=str(lab.cache), timeout=0.5)
    with pytest.raises(PluginTimeout) as info:
        cni.add(one(lab, {"hang": 30}), rt())
    assert "no answer within 0.5s; the plugin was killed" in str(info.value)
    assert info.value.plugin == "t1"


# --- DEL -----------------------------------------------------------------------------------------


def test_del_reverse_with_cached_result_and_replayed_capabilities(lab: Lab, three: Three) -> None:
    conf = three()
    lab.cni.add(conf, rt(args=(("K8S_POD_NAME", "web"),), capability_args=PORTS))
    lab.log.unlink()
    lab.cni.delete(conf, rt())  # the caller passes no capability args, nor CNI_ARGS
    calls = lab.calls()
    assert [(c["command"], c["type"]) for c in calls] == [
        ("DEL", "t3"),
        ("DEL", "t2"),
        ("DEL", "t1"),
    ]
    assert calls[1]["stdin"]["runtimeConfig"] == PORTS
    assert all(c["stdin"]["prevResult"]["ips"][0]["address"] == "10.99.0.2/24" for c in calls)
    assert calls[0]["env"]["CNI_ARGS"] == "IgnoreUnknown=1;K8S_POD_NAME=web"
    assert lab.held() == [] and lab.cache_files() == []
    lab.cni.delete(conf, rt())  # idempotent
    assert lab.cache_files() == []


def test_del_with_missing_netns_sends_empty_netns(lab: Lab, three: Three, tmp_path: Path) -> None:
    conf = three()
    ns = tmp_path / "fake-netns"
    ns.write_text("")
    lab.cni.add(conf, rt(netns=str(ns)))
    ns.unlink()
    lab.log.unlink()
    lab.cni.delete(conf, rt(netns=str(ns)))
    assert {c["env"]["CNI_NETNS"] for c in lab.calls()} == {""}
    assert lab.cache_files() == []


@pytest.mark.parametrize("content", [b"", b"{trunc", b"[]", b'{"kind":"cniCacheV1"}'])
def test_del_tolerates_corrupt_cache(lab: Lab, three: Three, content: bytes) -> None:
    conf = three()
    lab.cni.add(conf, rt())
    (lab.cache / "results" / "testnet-c1-eth0").write_bytes(content)
    lab.log.unlink()
    lab.cni.delete(conf, rt())
    assert all("prevResult" not in c["stdin"] for c in lab.calls())
    assert len(lab.calls()) == 3 and lab.cache_files() == []


def test_del_runs_every_plugin_even_if_one_fails_and_keeps_cache(lab: Lab, three: Three) -> None:
    conf = three({"t2": {"DEL": {"error": {"code": 5, "msg": "io"}}}})
    lab.cni.add(conf, rt())
    lab.log.unlink()
    with pytest.raises(PluginError, match=r"plugin 't2'.*io"):
        lab.cni.delete(conf, rt())
    assert lab.summary() == [("DEL", "t3"), ("DEL", "t2"), ("DEL", "t1")]
    assert lab.cache_files() == ["testnet-c1-eth0"]  # a retry still has the ADD result


def test_del_of_two_failures_collects_both(lab: Lab, three: Three) -> None:
    conf = three({"t1": {"DEL": {"exit": 3}}, "t3": {"DEL": {"crash": True}}})
    with pytest.raises(MultipleErrors) as info:
        lab.cni.delete(conf, rt())
    assert [getattr(e, "plugin", None) for e in info.value.errors] == ["t3", "t1"]


def test_del_converts_cached_result_to_list_version(lab: Lab) -> None:
    res = {"cniVersion": "1.0.0", "ips": [{"address": "10.5.0.2/24"}]}
    conf = lab.conf({"type": "t1", "testplugin": {"on": {"ADD": {"result": res}}}}, version="0.4.0")
    lab.cni.add(conf, rt())
    lab.log.unlink()
    lab.cni.delete(conf, rt())
    prev = lab.calls()[0]["stdin"]["prevResult"]
    assert prev["cniVersion"] == "0.4.0" and prev["ips"][0]["version"] == "4"


def test_del_pre_040_sends_no_prev_result(lab: Lab) -> None:
    conf = lab.conf({"type": "t1"}, version="0.3.1")
    lab.cni.add(conf, rt())
    lab.log.unlink()
    lab.cni.delete(conf, rt())
    assert "prevResult" not in lab.calls()[0]["stdin"]


def test_del_reads_legacy_bare_result_cache(lab: Lab) -> None:
    conf = lab.conf({"type": "t1"}, version="0.4.0")
    path = lab.cache / "results" / "testnet-c1-eth0"
    path.parent.mkdir(parents=True)
    path.write_text('{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.7.0.9/24"}]}')
    lab.cni.delete(conf, rt())
    assert lab.calls()[0]["stdin"]["prevResult"]["ips"][0]["address"] == "10.7.0.9/24"
    assert not path.exists()


# --- CHECK ---------------------------------------------------------------------------------------


def test_check_forward_with_cached_result(lab: Lab, three: Three) -> None:
    conf = three()
    lab.cni.add(conf, rt(args=(("K8S_POD_NAME", "web"),), capability_args=PORTS))
    lab.log.unlink()
    lab.cni.check(conf, rt())  # nothing but the attachment: the rest is replayed from the cache
    calls = lab.calls()
    assert [(c["command"], c["type"]) for c in calls] == [
        ("CHECK", "t1"),
        ("CHECK", "t2"),
        ("CHECK", "t3"),
    ]
    assert all(c["stdin"]["prevResult"]["ips"] for c in calls)
    assert calls[1]["stdin"]["runtimeConfig"] == PORTS
    assert {c["env"]["CNI_ARGS"] for c in calls} == {"IgnoreUnknown=1;K8S_POD_NAME=web"}


def test_check_finds_missing_resource(lab: Lab, three: Three) -> None:
    conf = three()
    lab.cni.add(conf, rt())
    os.unlink(lab.state / "t2" / "c1-eth0")
    with pytest.raises(PluginError) as info:
        lab.cni.check(conf, rt())
    assert (info.value.plugin, info.value.code) == ("t2", 3)


def test_check_gates(lab: Lab, three: Three) -> None:
    with pytest.raises(OperationNotSupported, match=r"needs cniVersion 0\.4\.0"):
        lab.cni.check(three(version="0.3.1"), rt())
    lab.cni.check(three(disableCheck=True), rt())
    assert lab.calls() == []
    with pytest.raises(NotFoundError, match="ADD it before CHECK"):
        lab.cni.check(three(), rt())


# --- GC / STATUS / VERSION -----------------------------------------------------------------------


def test_gc_deletes_stale_attachments_and_sends_valid_list(lab: Lab, three: Three) -> None:
    conf = three(version="1.1.0")
    lab.cni.add(conf, rt(container_id="keep"))
    lab.cni.add(conf, rt(container_id="stale", capability_args=PORTS))
    lab.log.unlink()
    lab.cni.gc(conf, [GCAttachment("keep", "eth0")])
    calls = lab.calls()
    assert [(c["command"], c["type"]) for c in calls] == [
        ("DEL", "t3"),
        ("DEL", "t2"),
        ("DEL", "t1"),
        ("GC", "t1"),
        ("GC", "t2"),
        ("GC", "t3"),
    ]
    assert calls[1]["env"]["CNI_CONTAINERID"] == "stale"
    assert calls[1]["stdin"]["runtimeConfig"] == PORTS
    gc = calls[3]
    assert gc["env"]["CNI_CONTAINERID"] == "" and gc["env"]["CNI_PATH"]
    expect = [{"containerID": "keep", "ifname": "eth0"}]
    assert gc["stdin"]["cni.dev/valid-attachments"] == expect
    assert gc["stdin"]["cni.dev/attachments"] == expect
    assert lab.cache_files() == ["testnet-keep-eth0"]
    assert lab.held() == ["t1/keep-eth0", "t2/keep-eth0", "t3/keep-eth0"]


def test_gc_gates_and_error_collection(lab: Lab, three: Three) -> None:
    lab.cni.gc(three(version="1.1.0", disableGC=True), [])
    assert lab.calls() == []
    lab.cni.gc(three(version="1.0.0"), [])  # nothing cached, and no GC verb before 1.1.0
    assert lab.calls() == []
    bad = three({"t1": {"GC": {"exit": 1}}, "t3": {"GC": {"garbage": "x", "exit": 1}}}, "1.1.0")
    with pytest.raises(MultipleErrors) as info:
        lab.cni.gc(bad, None)
    assert [getattr(e, "plugin", None) for e in info.value.errors] == ["t1", "t3"]
    assert "cni.dev/valid-attachments" not in lab.calls()[0]["stdin"]


def test_status(lab: Lab, three: Three) -> None:
    lab.cni.status(three(version="1.0.0"))
    assert lab.calls() == []
    lab.cni.status(three(version="1.1.0"))
    assert lab.summary() == [("STATUS", "t1"), ("STATUS", "t2"), ("STATUS", "t3")]
    sad = three({"t2": {"STATUS": {"error": {"code": 50, "msg": "not ready"}}}}, "1.1.0")
    with pytest.raises(PluginError) as info:
        lab.cni.status(sad)
    assert (info.value.plugin, info.value.code, info.value.command) == ("t2", 50, "STATUS")


def test_version_info_and_validate(lab: Lab, three: Three) -> None:
    install(lab.bin, "old", supported=["0.3.1", "0.4.0"])
    info = lab.cni.version_info("old")
    assert info == {"cniVersion": "1.1.0", "supportedVersions": ["0.3.1", "0.4.0"]}
    assert lab.cni.validate(three()) == ["portMappings"]
    conf = lab.conf({"type": "old"}, {"type": "missing"}, version="1.0.0")
    with pytest.raises(MultipleErrors) as errs:
        lab.cni.validate(conf)
    text = str(errs.value)
    assert "does not support config version '1.0.0'" in text and "'missing' not found" in text


def test_version_refuses_path_like_type(lab: Lab) -> None:
    with pytest.raises(ValidationError, match="bare binary name"):
        lab.cni.version_info("../t1")
    with pytest.raises(ValidationError, match="empty"):
        lab.cni.version_info("")


def test_rollback_passes_prev_result_like_del_does(lab: Lab) -> None:
    res = {"cniVersion": "1.0.0", "ips": [{"address": "10.5.0.2/24"}]}
    fail = {"ADD": {"error": {"code": 7, "msg": "no"}}}
    for version, prev in (("0.3.1", None), ("0.4.0", "4")):
        conf = lab.conf(
            {"type": "t1", "testplugin": {"on": {"ADD": {"result": res}}}},
            {"type": "t2", "testplugin": {"on": fail}},
            version=version,
            name=f"n{version}",
        )
        with pytest.raises(PluginError, match="no"):
            lab.cni.add(conf, rt())
        dels = [c for c in lab.calls() if c["command"] == "DEL" and c["stdin"]["name"] == conf.name]
        assert [c["type"] for c in dels] == ["t2", "t1"]
        for call in dels:  # none before 0.4.0; from 0.4.0 the chain's result in the list version
            got = call["stdin"].get("prevResult")
            assert (got["ips"][0]["version"] if got else None) == prev
    assert lab.held() == [] and lab.cache_files() == []


@pytest.mark.parametrize("ptype", ["../t1", "/bin/true", ".", ""])
def test_plugin_type_reaching_outside_the_plugin_path_never_runs(lab: Lab, ptype: str) -> None:
    # a PluginConfig built in code skips the config parser's check; the runtime refuses it too
    sub = lab.bin / "sub"
    sub.mkdir()
    (sub / "t0").write_text("")  # "../t1" from here is lab.bin/t1, a working plugin
    good = lab.conf({"type": "t1"}, version="1.1.0")
    bad = PluginConfig(type=ptype, name=good.name, capabilities={}, raw={"type": ptype})
    conf = dataclasses.replace(good, plugins=(good.plugins[0], bad))
    cni = CNI((str(sub),), cache_dir=str(lab.cache))
    for op in (
        lambda: cni.add(conf, rt()),
        lambda: cni.check(conf, rt()),
        lambda: cni.status(conf),
        lambda: cni.version_info(ptype),
    ):
        with pytest.raises((ValidationError, NotFoundError)):
            op()
    with pytest.raises(MultipleErrors):  # DEL and GC go on past the refusal, and report it
        cni.delete(conf, rt())
    assert all(c["type"] != ptype for c in lab.calls())
    assert lab.calls() == []  # t1 is not in sub/, so nothing at all ran


def test_unwritable_cache_fails_add_and_rolls_back(lab: Lab, three: Three) -> None:
    lab.cache.mkdir()
    (lab.cache / "results").write_text("not a directory")
    with pytest.raises(CtrnetError, match="cannot write the result cache") as info:
        lab.cni.add(three(), rt())
    assert f"make {lab.cache} writable" in str(info.value)
    assert lab.summary()[-3:] == [("DEL", "t3"), ("DEL", "t2"), ("DEL", "t1")]
    assert lab.held() == []


def test_version_unknown_to_old_plugins_means_010(lab: Lab) -> None:
    install(lab.bin, "ancient", version_error={"code": 4, "msg": "unknown CNI_COMMAND: VERSION"})
    assert lab.cni.version_info("ancient") == {
        "cniVersion": "0.1.0",
        "supportedVersions": ["0.1.0"],
    }
    install(lab.bin, "broken", version_error={"code": 999, "msg": "no"})
    with pytest.raises(PluginError, match=r"plugin 'broken' failed \(VERSION\): no"):
        lab.cni.version_info("broken")


def test_del_with_an_unremovable_cache_entry_still_runs_every_plugin(
    lab: Lab, three: Three
) -> None:
    conf = three()
    lab.cni.add(conf, rt())
    entry = lab.cache / "results" / "testnet-c1-eth0"
    entry.unlink()
    entry.mkdir()  # unreadable as a file, and unlink() cannot remove it
    lab.log.unlink()
    with pytest.raises(StorageError, match=f"cannot remove the CNI result cache file {entry}"):
        lab.cni.delete(conf, rt())
    assert lab.summary() == [("DEL", "t3"), ("DEL", "t2"), ("DEL", "t1")]
    assert lab.held() == []
