"""The real plugins started ahead: each waits for its input until the previous one is done.

A setup and a teardown on a bridge network with a published port run the four plugins (bridge,
portmap, firewall, tuning); the journal notes when each plugin's process was started, when it
was given its input and when it was done, so the test can see the start-ups overlap while the
calls themselves stay one after another, and that no plugin process outlives the operation.
"""

from __future__ import annotations

import itertools
import os
import time

import pytest

from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from ctrnet.platform._netns_linux import NetnsBackend
from tests.support.plugincalls import PluginCalls

pytestmark = pytest.mark.root


class Journal(PluginCalls):
    """The plugin calls, and when the namespace was made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        self.netns_made = 0.0
        real_create = NetnsBackend.create

        def create(backend: NetnsBackend, name: str, path: str | None = None) -> str:
            made = real_create(backend, name, path)
            self.netns_made = time.monotonic()
            return made

        monkeypatch.setattr(NetnsBackend, "create", create)


def _children() -> set[int]:
    out: set[int] = set()
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/children") as fh:
            out.update(int(p) for p in fh.read().split())
    return out


def test_setup_and_teardown_start_each_plugin_while_the_previous_one_works(
    network: str, settings: Settings, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = NetworkManager(settings)
    before = _children()
    journal = Journal(monkeypatch)
    opts = NetworkOptions.parse(networks=[network], publish=["127.0.0.1::80"], dns=["127.0.0.1"])
    sid = f"{prefix}-p1"
    manager.setup(sid, opts)
    try:
        adds = journal.of("ADD")
        assert [c.plugin for c in adds] == ["bridge", "portmap", "firewall", "tuning"]
        assert adds[0].started < journal.netns_made < adds[0].fed  # started before the netns
        for prev, call in itertools.pairwise(adds):
            assert call.started < prev.done  # started while the previous plugin worked
            assert call.fed >= prev.done  # and given its input once it was done
    finally:
        manager.cleanup(sid)
    dels = journal.of("DEL")
    assert [c.plugin for c in dels] == ["tuning", "firewall", "portmap", "bridge"]
    for prev, call in itertools.pairwise(dels):
        assert call.started < prev.done <= call.fed
    assert _children() <= before  # every plugin process was reaped


def test_ctrnet_prestart_0_starts_each_plugin_in_its_turn(
    network: str, settings: Settings, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = NetworkManager(settings.with_(prestart=False))
    journal = Journal(monkeypatch)
    sid = f"{prefix}-p2"
    manager.setup(sid, NetworkOptions.parse(networks=[network], dns=["127.0.0.1"]))
    manager.cleanup(sid)
    calls = journal.of("ADD") + journal.of("DEL")
    assert len(calls) == 8
    for prev, call in itertools.pairwise(calls):
        assert call.started >= prev.done
