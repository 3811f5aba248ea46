"""Running plugin processes: the timeout kills the whole tree, "text file busy" is retried."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import PluginExecError, PluginTimeout
from ctrnet.cni import CNI, NetworkConfigList, RuntimeConf, SubprocessExec
from tests.support.testplugin import install
from tests.unit.cni.conftest import Lab


def gone(pid: int) -> bool:
    """The process has exited (absent, or a zombie waiting for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid: int, limit: float = 60.0) -> bool:
    deadline = time.monotonic() + limit
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


@pytest.fixture
def pidfile(tmp_path: Path) -> Iterator[Path]:
    """Where the plugin's children write their PIDs; any still alive at the end are killed."""
    path = tmp_path / "child.pid"
    yield path
    for pid in pids(path):
        if not gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def status_conf(lab: Lab, action: dict[str, Any]) -> NetworkConfigList:
    return lab.conf({"type": "t1", "testplugin": {"on": {"STATUS": action}}}, version="1.1.0")


def time_out_after_spawn(
    lab: Lab, conf: NetworkConfigList, pidfile: Path, **exec_kw: Any
) -> list[int]:
    """STATUS until the plugin was killed by the timeout *after* it forked its child.

    On a loaded machine the plugin may not even reach the fork within a short timeout (that is a
    timeout too, but proves nothing about children), so the timeout doubles until it does.
    """
    timeout = 1.0
    while True:
        cni = CNI(
            (str(lab.bin),),
            cache_dir=str(lab.cache),
            exec=SubprocessExec(**exec_kw),
            timeout=timeout,
        )
        with pytest.raises(PluginTimeout, match="the plugin was killed"):
            cni.status(conf)
        if pidfile.exists():
            return pids(pidfile)
        assert timeout < 64, "the plugin never got as far as forking its child"
        timeout *= 2


def test_timeout_kills_the_plugins_children_too(lab: Lab, pidfile: Path) -> None:
    conf = status_conf(lab, {"spawn": {"pidfile": str(pidfile), "sleep": 300}, "hang": 300})
    children = time_out_after_spawn(lab, conf, pidfile)
    survivors = [pid for pid in children if not wait_gone(pid)]
    assert survivors == [], "the plugin's children survived the timeout"


def test_timeout_returns_even_if_an_escaped_child_holds_the_output_open(
    lab: Lab, pidfile: Path
) -> None:
    spawn = {"pidfile": str(pidfile), "sleep": 300, "detach": True}
    conf = status_conf(lab, {"spawn": spawn, "hang": 300})
    done: list[list[int]] = []
    worker = threading.Thread(
        target=lambda: done.append(time_out_after_spawn(lab, conf, pidfile, drain_timeout=0.5)),
        daemon=True,
    )
    worker.start()
    worker.join(240)
    assert done, "the call hung on the pipes of a child that left the process group"


def busy_binary(tmp_path: Path) -> tuple[Path, int]:
    """The test plugin, still open for writing: exec gives ETXTBSY while ``fd`` is open."""
    target = install(tmp_path / "busy", "t1")
    data = target.read_bytes()
    target.unlink()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o755)
    os.write(fd, data)
    return target, fd


def test_text_file_busy_is_retried_with_a_fresh_process(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, fd = busy_binary(tmp_path)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the writer finishes while we wait
        sleeps.append(seconds)
        if len(sleeps) == 1:
            os.close(fd)

    monkeypatch.setattr("ctrnet.cni.exec.time", types.SimpleNamespace(sleep=sleep))
    try:
        cni = CNI((str(target.parent),), cache_dir=str(lab.cache), exec=SubprocessExec())
        assert cni.version_info("t1")["supportedVersions"][-1] == "1.1.0"
    finally:
        if not sleeps:
            os.close(fd)
    assert sleeps == [1.0]  # one busy attempt, then a new process that ran


def test_text_file_busy_gives_up_after_the_retries(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, fd = busy_binary(tmp_path)
    sleeps: list[float] = []
    monkeypatch.setattr("ctrnet.cni.exec.time", types.SimpleNamespace(sleep=sleeps.append))
    try:
        cni = CNI(
            (str(target.parent),),
            cache_dir=str(lab.cache),
            exec=SubprocessExec(busy_retries=3, busy_delay=0.25),
        )
        with pytest.raises(PluginExecError, match=r"cannot execute .*/t1: Text file busy"):
            cni.version_info("t1")
    finally:
        os.close(fd)
    assert sleeps == [0.25, 0.25, 0.25]


def test_plugin_that_cannot_be_executed_is_a_clear_error(lab: Lab) -> None:
    (lab.bin / "t2").chmod(0o644)  # found (libcni does not check the exec bit), but not runnable
    conf = lab.conf({"type": "t1"}, {"type": "t2"})
    with pytest.raises(PluginExecError, match=r"cannot execute .*/t2: Permission denied"):
        lab.cni.add(conf, RuntimeConf(container_id="c1", netns="/proc/self/ns/net"))
    assert [c["command"] for c in lab.calls()] == ["ADD", "DEL"]  # t1 rolled back
    assert lab.held() == [] and lab.cache_files() == []
