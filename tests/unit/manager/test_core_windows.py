"""The manager on Windows, against the in-memory HCN stand-in and the test plugin acting as nat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ctrnet._errors import PluginError, SandboxExists, UnsupportedOption
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from ctrnet.platform._hcn_windows import HcnNamespaceBackend
from tests.support.testplugin import install
from tests.unit.platform.hcn_standin import StandInHcn


class Env:
    def __init__(self, tmp_path: Path, prefix: str) -> None:
        self.tmp = tmp_path
        self.prefix = prefix
        self.bin = tmp_path / "bin"
        install(self.bin, "nat")
        self.record = tmp_path / "calls.jsonl"
        self.state = tmp_path / "state"
        self.settings = Settings(
            conf_dir=str(tmp_path / "conf"),
            cni_path=(str(self.bin),),
            cache_dir=str(tmp_path / "cache"),
            data_root=str(tmp_path / "data"),
            platform="windows",
        )
        (tmp_path / "conf").mkdir()
        self.dll = StandInHcn()
        self.manager = NetworkManager(self.settings, backend=HcnNamespaceBackend(self.dll))

    def network(self, name: str, on: dict[str, Any] | None = None) -> str:
        conf = {
            "cniVersion": "1.0.0",
            "name": name,
            "plugins": [
                {
                    "type": "nat",
                    "capabilities": {"portMappings": True},
                    "testplugin": {
                        "record": str(self.record),
                        "state": str(self.state),
                        "on": on or {},
                    },
                }
            ],
        }
        (self.tmp / "conf" / f"{name}.conflist").write_text(json.dumps(conf))
        return name

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def attachments(self) -> list[str]:
        return sorted(p.name for p in self.state.iterdir()) if self.state.exists() else []

    def cache_files(self) -> list[str]:
        results = self.tmp / "cache" / "results"
        return sorted(p.name for p in results.iterdir()) if results.exists() else []

    def records(self) -> list[str]:
        root = self.tmp / "data" / "sandboxes"
        return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.fixture
def env(tmp_path: Path, prefix: str) -> Env:
    e = Env(tmp_path, prefix)
    yield e  # type: ignore[misc]
    assert e.dll.problems() == []


def test_setup_creates_an_hcn_namespace_and_runs_the_chain_into_it(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    sandbox = env.manager.setup(sid, NetworkOptions.parse(networks=[net], publish=["8080:80"]))

    assert sandbox.state == "ready"
    assert len(env.dll.namespaces) == 1
    guid = str(next(iter(env.dll.namespaces)))
    assert sandbox.netns == guid
    (add,) = [c for c in env.calls() if c["command"] == "ADD"]
    assert add["env"]["CNI_NETNS"] == guid
    assert add["env"]["CNI_CONTAINERID"] == sid
    assert add["env"]["CNI_IFNAME"] == "eth0"
    assert add["env"]["CNI_ARGS"].startswith("IgnoreUnknown=1")
    assert add["stdin"]["runtimeConfig"]["portMappings"] == [
        {"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "0.0.0.0"}
    ]
    assert sandbox.networks[0].ips == ("10.99.0.2/24",)
    # Windows sandboxes get no Linux container files
    assert sandbox.hosts_path == sandbox.resolv_conf_path == sandbox.hostname_path == ""


def test_oci_fragment_names_the_hcn_namespace(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    sandbox = env.manager.setup(sid, NetworkOptions.parse(networks=[net]))
    fragment = env.manager.oci_spec(sid)
    assert fragment["windows"]["network"] == {
        "allowUnqualifiedDNSQuery": True,
        "networkNamespace": sandbox.netns,
    }
    assert fragment["annotations"]["nerdctl/network-namespace"] == sandbox.netns
    assert json.loads(fragment["annotations"]["nerdctl/networks"]) == [net]
    assert "linux" not in fragment and "mounts" not in fragment


def test_cleanup_deletes_the_attachment_and_the_namespace_and_is_idempotent(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    env.manager.setup(sid, NetworkOptions.parse(networks=[net], publish=["8080:80"]))
    env.manager.cleanup(sid)

    dels = [c for c in env.calls() if c["command"] == "DEL"]
    assert len(dels) == 1
    assert dels[0]["stdin"]["runtimeConfig"]["portMappings"][0]["hostPort"] == 8080
    assert env.dll.namespaces == {}  # nerdctl leaks it; we don't
    assert env.attachments() == [] and env.cache_files() == [] and env.records() == []
    env.manager.cleanup(sid)
    assert len([c for c in env.calls() if c["command"] == "DEL"]) == 1


def test_failing_second_network_leaves_nothing(env: Env) -> None:
    good = env.network(f"{env.prefix}-a")
    bad = env.network(f"{env.prefix}-b", on={"ADD": {"error": {"code": 11, "msg": "no luck"}}})
    sid = f"{env.prefix}-c1"
    with pytest.raises(PluginError, match="no luck"):
        env.manager.setup(sid, NetworkOptions.parse(networks=[good, bad]))
    adds = [c for c in env.calls() if c["command"] == "ADD"]
    assert [a["env"]["CNI_IFNAME"] for a in adds] == ["eth0", "eth1"]
    assert env.dll.namespaces == {}
    assert env.attachments() == [] and env.cache_files() == [] and env.records() == []
    assert env.manager.list() == []


def test_windows_refusals_come_from_verify_and_change_nothing(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    opts = NetworkOptions.parse(networks=[net], hostname="web", dns=["10.0.0.1"])
    with pytest.raises(UnsupportedOption, match=r"not supported on Windows: \[--hostname --dns\]"):
        env.manager.setup(f"{env.prefix}-c1", opts)
    with pytest.raises(UnsupportedOption):
        env.manager.setup(f"{env.prefix}-c2", NetworkOptions.parse(networks=["host"]))
    assert env.calls() == [] and env.dll.namespaces == {} and env.records() == []


def test_setup_twice_is_refused_but_a_leftover_of_a_crash_is_reclaimed(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    opts = NetworkOptions.parse(networks=[net])
    env.manager.setup(sid, opts)
    with pytest.raises(SandboxExists):
        env.manager.setup(sid, opts)

    # a crash before the record turned ready: the next setup of the ID cleans it first
    record_path = Path(env.settings.data_root, "sandboxes", sid, "sandbox.json")
    data = json.loads(record_path.read_text())
    data["state"] = "creating"
    record_path.write_text(json.dumps(data))
    sandbox = env.manager.setup(sid, opts)
    assert sandbox.state == "ready"
    assert len(env.dll.namespaces) == 1 and env.attachments() == [f"{sid}-eth0"]

    # the record lost but the CNI cache kept: the plugin would refuse a duplicate ADD
    import shutil

    shutil.rmtree(record_path.parent)
    env.manager.setup(sid, opts)
    assert env.attachments() == [f"{sid}-eth0"]
    env.manager.cleanup(sid)
    # the namespace orphaned by the lost record cannot be found any more; only ours is gone
    assert env.attachments() == [] and env.cache_files() == [] and env.records() == []
    for guid in list(env.dll.namespaces):
        HcnNamespaceBackend(env.dll).remove(str(guid))


def test_del_gets_the_same_netns_and_args_as_add(env: Env) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    env.manager.setup(sid, NetworkOptions.parse(networks=[net]))
    env.manager.cleanup(sid)
    add, delete = (c for c in env.calls() if c["command"] in ("ADD", "DEL"))
    assert delete["env"]["CNI_ARGS"] == add["env"]["CNI_ARGS"]
    assert delete["env"]["CNI_NETNS"] == add["env"]["CNI_NETNS"]


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs, not even the rollback."""


def _crash_right_after_hcn_create(
    env: Env, monkeypatch: pytest.MonkeyPatch, sid: str, net: str
) -> None:
    """A setup of ``sid`` on ``net`` whose process dies right after HcnCreateNamespace."""
    backend = HcnNamespaceBackend(env.dll)
    real_create = backend.create

    def create_then_die(name: str, path: str | None = None) -> str:
        real_create(name, path)
        raise Crash

    monkeypatch.setattr(backend, "create", create_then_die)
    monkeypatch.setattr(NetworkManager, "_rollback", lambda *args: None)
    with pytest.raises(Crash):
        NetworkManager(env.settings, backend=backend).setup(
            sid, NetworkOptions.parse(networks=[net])
        )
    monkeypatch.undo()


def test_a_crash_right_after_the_hcn_create_is_reclaimed_by_cleanup(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    _crash_right_after_hcn_create(env, monkeypatch, sid, net)

    (guid,) = env.dll.namespaces
    record = json.loads(Path(env.settings.data_root, "sandboxes", sid, "sandbox.json").read_text())
    assert record["state"] == "creating"
    assert record["netns"] == str(guid)  # written before HcnCreateNamespace ran
    assert record["labels"]["nerdctl/network-namespace"] == str(guid)
    env.manager.cleanup(sid)
    assert env.dll.namespaces == {} and env.records() == []


def test_a_new_setup_of_an_id_that_crashed_after_the_hcn_create_reclaims_it(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = env.network(f"{env.prefix}-nat")
    sid = f"{env.prefix}-c1"
    _crash_right_after_hcn_create(env, monkeypatch, sid, net)
    (crashed,) = env.dll.namespaces

    sandbox = env.manager.setup(sid, NetworkOptions.parse(networks=[net]))
    assert list(env.dll.namespaces) != [crashed] and len(env.dll.namespaces) == 1
    assert sandbox.netns == str(next(iter(env.dll.namespaces)))
    env.manager.cleanup(sid)
    assert env.dll.namespaces == {}


def test_the_hcn_namespace_gets_the_guid_allocated_before_it() -> None:
    dll = StandInHcn()
    backend = HcnNamespaceBackend(dll)
    guid = backend.allocate("ctrnet-x")
    assert dll.namespaces == {} and dll.calls == []  # allocate creates nothing
    assert backend.create("ctrnet-x", guid) == guid
    assert [str(g) for g in dll.namespaces] == [guid]
    backend.remove(guid)
    assert dll.problems() == []
