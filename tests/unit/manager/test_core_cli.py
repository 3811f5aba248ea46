"""``ctrnet setup | teardown | ps | inspect | port | oci-spec`` without touching the host."""

from __future__ import annotations

import json
from pathlib import Path

from ctrnet._settings import Settings
from ctrnet.manager.records import AttachmentRecord, RecordStore, SandboxRecord
from tests.support.reliability import cli


def _seed(settings: Settings) -> None:
    RecordStore(settings.data_root).save(
        SandboxRecord(
            id="abc123",
            name="web",
            mode="cni",
            state="ready",
            netns="/run/netns/ctrnet-abc123",
            hostname="abc123",
            networks=[
                AttachmentRecord(
                    network="n1",
                    ifname="eth0",
                    conflist="{}",
                    ips=["10.9.0.2/24"],
                    mac="02:00:00:00:00:01",
                )
            ],
            ports=[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "0.0.0.0"}],
            labels={"nerdctl/networks": '["n1"]'},
        )
    )


def test_bad_id_is_a_usage_error_and_writes_nothing(settings: Settings) -> None:
    proc = cli(settings, "setup", "../x", "-n", "none")
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: invalid sandbox ID '../x'")
    assert not Path(settings.data_root).exists()


def test_ps_inspect_port_and_oci_spec_read_the_records(settings: Settings) -> None:
    _seed(settings)
    assert cli(settings, "ps", "-q").stdout.split() == ["abc123"]
    table = cli(settings, "ps").stdout.splitlines()
    assert table[0].split()[:4] == ["SANDBOX", "ID", "NAME", "MODE"]
    assert "10.9.0.2" in table[1] and "80/tcp -> 0.0.0.0:8080" in table[1]
    (listed,) = json.loads(cli(settings, "ps", "--format", "json").stdout)
    assert listed["networks"][0]["ips"] == ["10.9.0.2/24"]
    (view,) = json.loads(cli(settings, "inspect", "web").stdout)
    assert view["NetworkSettings"]["Networks"]["n1"]["IPAddress"] == "10.9.0.2"
    assert cli(settings, "port", "abc").stdout == "80/tcp -> 0.0.0.0:8080\n"
    assert cli(settings, "port", "abc", "80/tcp").stdout == "0.0.0.0:8080\n"
    fragment = json.loads(cli(settings, "oci-spec", "abc123").stdout)
    assert fragment["linux"]["namespaces"][0] == {
        "type": "network",
        "path": "/run/netns/ctrnet-abc123",
    }


def test_unknown_sandboxes(settings: Settings) -> None:
    proc = cli(settings, "inspect", "nope")
    assert proc.returncode == 3 and json.loads(proc.stdout) == []
    assert "sandbox 'nope' not found" in proc.stderr
    gone = cli(settings, "teardown", "nope")
    assert gone.returncode == 0 and gone.stdout == "nope\n"
