"""Starting the next plugin of a chain while one runs: the calls stay one after another.

The test plugin records when its process started, when it had read its input and when it
exited, so each case can tell a process started ahead (before the previous plugin was done)
from one started in its turn, and check that none got its input before its predecessor exited.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import PluginError, PluginExecError, StorageError
from ctrnet._settings import Settings
from ctrnet.cni import CNI, NetworkConfigList, RuntimeConf
from ctrnet.cni.chain import REFERENCE_PLUGINS
from ctrnet.cni.exec import SubprocessExec
from tests.unit.cni.conftest import Lab

Three = Callable[..., NetworkConfigList]
SLOW = {"hang": 1.5}  # long enough for the next Python plugin to have started meanwhile
RT = RuntimeConf(container_id="c1", netns="/proc/self/ns/net", ifname="eth0")


@pytest.fixture
def starts(tmp_path: Path) -> Iterator[Path]:
    """The file every test plugin process logs its PID to when it starts."""
    path = tmp_path / "starts.jsonl"
    os.environ["TESTPLUGIN_STARTS"] = str(path)
    try:
        yield path
    finally:
        del os.environ["TESTPLUGIN_STARTS"]


def _prestarting(lab: Lab) -> CNI:
    return CNI(lab.cni.path, cache_dir=lab.cni.cache_dir, prestart={"t1", "t2", "t3"})


def _exits(lab: Lab) -> dict[int, float]:
    path = Path(str(lab.log) + ".exits")
    lines = path.read_text().splitlines() if path.exists() else []
    return {e["pid"]: e["t_exit"] for e in map(json.loads, lines)}


def _sequential(lab: Lab, command: str) -> list[dict[str, Any]]:
    """The ``command`` calls, checked to have got their input only once the previous exited."""
    calls = [c for c in lab.calls() if c["command"] == command]
    exits = _exits(lab)
    for before, after in itertools.pairwise(calls):
        assert after["t_read"] >= exits[before["pid"]], (before["type"], after["type"])
    return calls


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")  # neither running nor a zombie left unreaped


def test_the_next_plugin_starts_while_one_runs_and_gets_its_input_after(
    lab: Lab, three: Three
) -> None:
    cni = _prestarting(lab)
    result = cni.add(three(on={"t1": {"ADD": SLOW}, "t2": {"ADD": SLOW}}), RT)
    assert result.ips  # t1's result, passed along the chain
    t1, t2, t3 = _sequential(lab, "ADD")
    exits = _exits(lab)
    assert t2["t_start"] < exits[t1["pid"]]  # started ahead, while t1 ran
    assert t3["t_start"] < exits[t2["pid"]]
    assert "prevResult" not in t1["stdin"]
    assert (
        t2["stdin"]["prevResult"]["ips"]
        == t3["stdin"]["prevResult"]["ips"]
        == [ip.to_dict() for ip in result.ips]
    )


def test_del_starts_the_next_plugin_ahead_too(lab: Lab, three: Three) -> None:
    cni = _prestarting(lab)
    conf = three(on={"t3": {"DEL": SLOW}})
    cni.add(conf, RT)
    cni.delete(conf, RT)
    t3, t2, t1 = _sequential(lab, "DEL")
    assert (t3["type"], t2["type"], t1["type"]) == ("t3", "t2", "t1")
    assert t2["t_start"] < _exits(lab)[t3["pid"]]
    assert lab.held() == []


def test_a_failed_chain_kills_the_plugin_started_for_the_next_call(
    lab: Lab, three: Three, starts: Path
) -> None:
    cni = _prestarting(lab)
    conf = three(on={"t2": {"ADD": {"hang": 1.5, "error": {"code": 11, "msg": "no way"}}}})
    with pytest.raises(PluginError, match="no way"):
        cni.add(conf, RT)
    # t3 was started for its ADD while t2 ran; it never got an input, and it is gone
    assert [(c["command"], c["type"]) for c in lab.calls()] == [
        ("ADD", "t1"),
        ("ADD", "t2"),
        ("DEL", "t3"),
        ("DEL", "t2"),
        ("DEL", "t1"),
    ]
    recorded = {c["pid"] for c in lab.calls()}
    started = [json.loads(line)["pid"] for line in starts.read_text().splitlines()]
    unused = [pid for pid in started if pid not in recorded]
    assert len(unused) == 1  # the ADD of t3
    assert all(_gone(pid) for pid in started)
    assert lab.held() == [] and lab.cache_files() == []


def test_plugins_outside_the_prestart_set_start_in_their_turn(lab: Lab, three: Three) -> None:
    assert not {"t1", "t2", "t3"} & REFERENCE_PLUGINS
    lab.cni.add(three(on={"t1": {"ADD": SLOW}}), RT)  # the default set: the reference plugins
    t1, t2, _t3 = _sequential(lab, "ADD")
    assert t2["t_start"] >= _exits(lab)[t1["pid"]]


def test_ctrnet_prestart_0_turns_it_off() -> None:
    assert CNI.from_settings(Settings()).prestart == REFERENCE_PLUGINS
    off = Settings.from_env({"CTRNET_PRESTART": "0"})
    assert off.prestart is False
    assert CNI.from_settings(off).prestart == frozenset()
    assert Settings.from_env({"CTRNET_PRESTART": "1"}).prestart is True


def _wait_for_start(starts: Path, name: str) -> int:
    """The PID of the first process of plugin ``name`` to start (waits up to 20 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if starts.exists():
            for entry in map(json.loads, starts.read_text().splitlines()):
                if entry["name"] == name:
                    return int(entry["pid"])
        time.sleep(0.02)
    raise AssertionError(f"{name} never started")


def test_before_runs_while_the_first_plugin_starts_and_ahead_of_its_input(
    lab: Lab, three: Three, starts: Path
) -> None:
    cni = _prestarting(lab)
    seen: list[float] = []

    def before() -> None:
        seen.append(_wait_for_start(starts, "t1"))  # started before this returns
        seen.append(time.time())

    cni.add(three(), RT, before=before)
    t1, _t2, _t3 = _sequential(lab, "ADD")
    assert t1["pid"] == seen[0]
    assert t1["t_read"] >= seen[1]  # its input came after before() was done


def test_an_error_in_before_ends_the_add_before_any_plugin_acts(
    lab: Lab, three: Three, starts: Path
) -> None:
    cni = _prestarting(lab)

    def before() -> None:
        _wait_for_start(starts, "t1")
        raise StorageError("cannot write the record", OSError(28, "No space left on device"))

    with pytest.raises(StorageError, match="cannot write the record"):
        cni.add(three(), RT, before=before)
    assert lab.calls() == []  # no ADD, and no rollback DEL either: nothing was tried
    pids = [json.loads(line)["pid"] for line in starts.read_text().splitlines()]
    assert pids and all(_gone(pid) for pid in pids)
    assert lab.cache_files() == []


def test_a_plugin_started_ahead_that_dies_before_its_input_fails_like_any_plugin(
    lab: Lab,
) -> None:
    quitter = lab.bin / "t9"
    quitter.write_text("#!/bin/sh\nexit 3\n")  # exits at once, reads nothing
    quitter.chmod(0o755)
    cni = CNI(lab.cni.path, cache_dir=lab.cni.cache_dir, prestart={"t9"})
    conf = lab.conf({"type": "t1", "testplugin": {"on": {"ADD": SLOW}}}, {"type": "t9"})
    with pytest.raises(PluginExecError, match="exited with status 3 with no error message"):
        cni.add(conf, RT)
    assert [(c["command"], c["type"]) for c in lab.calls()] == [("ADD", "t1"), ("DEL", "t1")]
    assert lab.held() == [] and lab.cache_files() == []


def test_a_plugin_that_cannot_be_started_ahead_is_run_in_its_turn_with_the_same_error(
    lab: Lab,
) -> None:
    exec_ = SubprocessExec()
    started = exec_.start(str(lab.root / "missing-plugin"), {"CNI_COMMAND": "VERSION"})
    with pytest.raises(PluginExecError, match=r"cannot execute .*missing-plugin"):
        started.finish(b"{}", 5.0)
    started.abort()  # nothing to end: a no-op
