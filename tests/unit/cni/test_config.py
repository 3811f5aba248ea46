"""Loading network configs: the rules a user meets when writing files into a conf dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import ConfigNotFound, InvalidConfig
from ctrnet.cni import conflist_from_bytes, find, load_dir, load_file, scan_dir


def write(directory: Path, name: str, obj: Any) -> Path:
    path = directory / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def bridge_list(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "cniVersion": "1.0.0",
        "name": name,
        "plugins": [
            {"type": "bridge", "bridge": "br0", "ipam": {"type": "host-local"}},
            {"type": "portmap", "capabilities": {"portMappings": True, "off": False}},
        ],
        **extra,
    }


def test_conflist_parsed_with_plugins_and_flags(tmp_path: Path) -> None:
    path = write(tmp_path, "10-a.conflist", bridge_list("a", disableCheck="TRUE", disableGC=True))
    conf = load_file(path)
    assert conf.name == "a"
    assert conf.cni_version == "1.0.0"
    assert [p.type for p in conf.plugins] == ["bridge", "portmap"]
    assert conf.plugins[1].enabled_capabilities == ("portMappings",)
    assert conf.disable_check and conf.disable_gc and not conf.load_only_inlined_plugins
    assert conf.data == path.read_bytes()
    assert conf.path == str(path)
    assert conf.plugins[0].raw["bridge"] == "br0"


def test_single_plugin_conf_is_upconverted(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.conf", {"cniVersion": "0.4.0", "name": "one", "type": "bridge", "x": 1}
    )
    conf = load_file(path)
    assert conf.name == "one" and conf.cni_version == "0.4.0"
    assert len(conf.plugins) == 1 and conf.plugins[0].raw["x"] == 1
    assert json.loads(conf.data) == {
        "cniVersion": "0.4.0",
        "name": "one",
        "plugins": [{"cniVersion": "0.4.0", "name": "one", "type": "bridge", "x": 1}],
    }


def test_upconverted_bytes_are_what_libcni_marshals(tmp_path: Path) -> None:
    # libcni's ConfListFromConf: json.Marshal of {cniVersion, name, plugins: [the raw map]}
    path = write(
        tmp_path,
        "a.conf",
        '{"type": "bridge", "name": "one", "cniVersion": "0.4.0", "mtu": 1500.0,\n'
        ' "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}, "note": "a&b <c>"}',
    )
    assert load_file(path).data == (
        b'{"cniVersion":"0.4.0","name":"one","plugins":[{"cniVersion":"0.4.0",'
        b'"ipam":{"subnet":"10.1.0.0/16","type":"host-local"},"mtu":1500,"name":"one",'
        b'"note":"a\\u0026b \\u003cc\\u003e","type":"bridge"}]}'
    )


@pytest.mark.parametrize(
    ("declared", "listed", "chosen"),
    [
        ("0.4.0", ["1.0.0", "0.3.1"], "1.0.0"),
        ("1.1.0", ["0.4.0"], "1.1.0"),
        ("0.3.1", ["9.0.0", "1.0.0"], "1.0.0"),  # versions newer than ours are skipped
        (None, ["0.4.0"], "0.4.0"),
        (None, None, "0.1.0"),
        ("1.0", None, "1.0.0"),
    ],
)
def test_highest_supported_version_wins(
    declared: str | None, listed: list[str] | None, chosen: str
) -> None:
    obj: dict[str, Any] = {"name": "v", "plugins": [{"type": "bridge"}]}
    if declared is not None:
        obj["cniVersion"] = declared
    if listed is not None:
        obj["cniVersions"] = listed
    assert conflist_from_bytes(json.dumps(obj).encode()).cni_version == chosen


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ("{not json", "invalid JSON at line 1"),
        ("", "empty"),
        ("[1]", "expected a JSON object"),
        ({"plugins": [{"type": "x"}]}, "missing 'name'"),
        ({"name": "-bad", "plugins": [{"type": "x"}]}, "invalid network name '-bad'"),
        ({"name": "a/b", "plugins": [{"type": "x"}]}, "invalid network name"),
        ({"name": "n", "plugins": []}, "no plugins in list"),
        ({"name": "n", "plugins": {"type": "x"}}, "'plugins' must be a list"),
        ({"name": "n", "plugins": [{"ipam": {}}]}, "plugin 0: missing 'type'"),
        ({"name": "n", "plugins": [{"type": "../sh"}]}, "invalid plugin type '../sh'"),
        ({"name": "n", "plugins": [{"type": "a\\b"}]}, "invalid plugin type"),
        ({"name": "n", "plugins": [{"type": ".."}]}, "invalid plugin type"),
        ({"name": "n", "plugins": [{"type": "x", "args": {}}]}, "'args' is reserved"),
        ({"name": "n", "plugins": [{"type": "x", "runtimeConfig": {}}]}, "reserved"),
        ({"name": "n", "plugins": [{"type": "x", "cni.dev/foo": 1}]}, "'cni.dev/foo' is reserved"),
        ({"name": "n", "plugins": [{"type": "x", "capabilities": {"a": 1}}]}, "capabilities"),
        ({"name": "n", "cniVersion": "1.x", "plugins": [{"type": "x"}]}, "invalid CNI version"),
        ({"name": "n", "cniVersion": "2.0.0", "plugins": [{"type": "x"}]}, "not supported"),
        ({"name": "n", "cniVersion": 1, "plugins": [{"type": "x"}]}, "must be a string"),
        ({"name": "n", "disableCheck": "yes", "plugins": [{"type": "x"}]}, "'disableCheck'"),
        ({"name": "n", "loadOnlyInlinedPlugins": True}, "'plugins' is missing"),
        ({"name": "n"}, "no plugin configs found"),
    ],
)
def test_broken_file_names_file_and_problem(tmp_path: Path, obj: Any, problem: str) -> None:
    path = write(tmp_path, "bad.conflist", obj)
    with pytest.raises(InvalidConfig) as info:
        load_file(path)
    assert info.value.path == str(path)
    assert problem in str(info.value)
    assert str(info.value).startswith(str(path))


def test_sibling_directory_plugins_are_appended(tmp_path: Path) -> None:
    write(tmp_path, "a.conflist", bridge_list("net1"))
    (tmp_path / "net1").mkdir()
    write(tmp_path / "net1", "20-tuning.conf", {"type": "tuning"})
    write(tmp_path / "net1", "10-firewall.conf", {"type": "firewall"})
    write(tmp_path / "net1", "ignored.json", {"type": "nope"})
    conf = load_file(tmp_path / "a.conflist")
    assert [p.type for p in conf.plugins] == ["bridge", "portmap", "firewall", "tuning"]
    inlined = write(tmp_path, "b.conflist", bridge_list("net1", loadOnlyInlinedPlugins=True))
    assert [p.type for p in load_file(inlined).plugins] == ["bridge", "portmap"]


def test_sibling_plugins_alone_make_a_list(tmp_path: Path) -> None:
    write(tmp_path, "a.conflist", {"cniVersion": "1.0.0", "name": "only"})
    (tmp_path / "only").mkdir()
    write(tmp_path / "only", "x.conf", {"type": "bridge"})
    assert [p.type for p in load_file(tmp_path / "a.conflist").plugins] == ["bridge"]


def test_broken_sibling_plugin_names_its_file(tmp_path: Path) -> None:
    write(tmp_path, "a.conflist", bridge_list("n"))
    (tmp_path / "n").mkdir()
    bad = write(tmp_path / "n", "x.conf", {"type": "x", "args": {}})
    with pytest.raises(InvalidConfig) as info:
        load_file(tmp_path / "a.conflist")
    assert info.value.path == str(bad)


def test_scan_dir_sorted_tolerant_and_exact_extensions(tmp_path: Path) -> None:
    write(tmp_path, "20-b.conflist", bridge_list("b"))
    write(tmp_path, "10-a.conf", {"name": "a", "type": "bridge"})
    write(tmp_path, "15-broken.json", "{")
    write(tmp_path, "30-c.CONFLIST", bridge_list("c"))
    write(tmp_path, "40-d.conflist.bak", bridge_list("d"))
    write(tmp_path, ".tmp-abc", bridge_list("e"))
    (tmp_path / "50-dir.conflist").mkdir()
    scanned = scan_dir(tmp_path)
    assert [Path(p).name for p, _ in scanned] == ["10-a.conf", "15-broken.json", "20-b.conflist"]
    assert isinstance(scanned[1][1], InvalidConfig)
    with pytest.raises(InvalidConfig, match=r"15-broken\.json"):
        load_dir(tmp_path)


def test_missing_dir_is_empty(tmp_path: Path) -> None:
    assert scan_dir(tmp_path / "nope") == []
    assert load_dir(tmp_path / "nope") == []


def test_find_prefers_conflist_then_conf(tmp_path: Path) -> None:
    write(tmp_path, "00-x.conf", {"name": "x", "type": "macvlan"})
    write(tmp_path, "99-x.conflist", bridge_list("x"))
    write(tmp_path, "50-y.conf", {"name": "y", "type": "ptp"})
    assert find(tmp_path, "x").plugins[0].type == "bridge"
    assert find(tmp_path, "y").plugins[0].type == "ptp"
    with pytest.raises(ConfigNotFound, match="'z'"):
        find(tmp_path, "z")


def test_find_skips_broken_files_but_reports_them_when_missing(tmp_path: Path) -> None:
    write(tmp_path, "00-broken.conflist", "{")
    write(tmp_path, "10-x.conflist", bridge_list("x"))
    assert find(tmp_path, "x").name == "x"
    with pytest.raises(InvalidConfig, match=r"00-broken\.conflist.*looking for network 'z'"):
        find(tmp_path, "z")
