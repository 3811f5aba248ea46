"""What reaches the disk before what: records are fsynced where a power loss needs them.

The ``creating`` record is on disk before the first ADD, and no sooner than it must be: it is
synced in a thread while the namespace is made (a reboot ends a namespace, so it may exist
before the record is durable); host-local's leases, made by the ADDs, may not. The CNI cache is
written without fsync, as libcni writes it. A teardown syncs its ``removing`` record only for a
sandbox whose namespace ctrnet did not make: after a reboot gc reclaims the others in any state.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ctrnet._errors import StorageError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from tests.support.plugincalls import PluginCalls

pytestmark = pytest.mark.root


class Journal:
    """Finished fsyncs (by path) and plugin calls given their input, in order, from any thread.

    ``slow``: fsyncs of paths ending so take 0.2 s longer (a busy disk); ``fail_on``: they fail.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, str]] = []
        self.slow: str | None = None
        self.fail_on: str | None = None
        self._lock = threading.Lock()
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            if self.fail_on and path.endswith(self.fail_on):
                raise OSError(errno.EIO, "Input/output error")
            if self.slow and path.endswith(self.slow):
                time.sleep(0.2)
            real_fsync(fd)
            self._add("fsync", path)

        monkeypatch.setattr(os, "fsync", fsync)
        PluginCalls(monkeypatch, on_feed=lambda c: self._add("exec", f"{c.plugin} {c.command}"))

    def _add(self, kind: str, what: str) -> None:
        with self._lock:
            self.events.append((kind, what))

    def index(self, kind: str, what: Callable[[str], bool]) -> int:
        return next(i for i, (k, v) in enumerate(self.events) if k == kind and what(v))


def _opts(network: str) -> NetworkOptions:
    return NetworkOptions.parse(networks=[network], publish=["127.0.0.1::80"], dns=["127.0.0.1"])


def test_the_record_is_synced_before_the_first_add_and_the_cache_is_not(
    network: str, settings: Settings, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(monkeypatch)
    journal.slow = "/sandbox.json"
    manager = NetworkManager(settings)
    sid = f"{prefix}-d1"
    manager.setup(sid, _opts(network))
    try:
        record_dir = str(Path(settings.data_root, "sandboxes", sid))
        first_add = journal.index("exec", lambda v: v.endswith(" ADD"))
        synced = {v for k, v in journal.events[:first_add] if k == "fsync"}
        assert f"{record_dir}/sandbox.json" in synced
        assert record_dir in synced  # the rename into it
        assert str(Path(record_dir).parent) in synced  # the new directory's entry
        cache = os.path.realpath(settings.cache_dir)
        assert [v for k, v in journal.events if k == "fsync" and v.startswith(cache)] == []
        assert list(Path(settings.cache_dir, "results").iterdir())  # written all the same
    finally:
        manager.cleanup(sid)


def test_a_record_that_cannot_be_synced_stops_the_setup_before_any_add(
    network: str, settings: Settings, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(monkeypatch)
    journal.fail_on = "/sandbox.json"
    manager = NetworkManager(settings)
    sid = f"{prefix}-d2"
    with pytest.raises(StorageError, match=r"cannot sync .*sandbox\.json to disk"):
        manager.setup(sid, _opts(network))
    assert [v for k, v in journal.events if k == "exec"] == []  # no plugin ran: no lease
    assert not Path(settings.data_root, "sandboxes", sid).exists()
    assert manager.list() == []
    assert not os.path.lexists(manager.ctx.planned_netns_path(sid))
    journal.fail_on = None  # the disk is back: the same ID sets up
    sandbox = manager.setup(sid, _opts(network))
    assert sandbox.networks
    manager.cleanup(sid)


def test_teardown_syncs_the_removing_record_only_without_a_namespace_of_its_own(
    network: str, settings: Settings, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = NetworkManager(settings)
    cni_id, host_id = f"{prefix}-d3", f"{prefix}-d4"
    manager.setup(cni_id, _opts(network))
    manager.setup(host_id, NetworkOptions.parse(networks=["host"]))
    journal = Journal(monkeypatch)
    manager.cleanup(cni_id)
    assert [v for k, v in journal.events if k == "fsync"] == []
    assert [v for k, v in journal.events if k == "exec"][-1] == "bridge DEL"
    manager.cleanup(host_id)
    record_dir = str(Path(settings.data_root, "sandboxes", host_id))
    synced = [v for k, v in journal.events if k == "fsync"]
    assert record_dir in synced  # the file (under its temporary name), then the rename
    assert any(v.startswith(f"{record_dir}/.tmp-") for v in synced)
    assert manager.list() == []
