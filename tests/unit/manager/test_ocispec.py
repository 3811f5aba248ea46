"""The OCI fragment and labels a sandbox hands to a runtime."""

from __future__ import annotations

import json
from typing import Any

from ctrnet.manager.labels import network_labels
from ctrnet.manager.modes import Attachment, Mode
from ctrnet.manager.ocispec import build_fragment, merge_fragment
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.ports import PortMapping
from tests.unit.manager.test_rules import STORE

BASE: dict[str, Any] = {
    "ociVersion": "1.0.2",
    "hostname": "old",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/etc/hosts", "type": "bind", "source": "/user/hosts", "options": ["ro"]},
    ],
    "linux": {
        "namespaces": [
            {"type": "pid"},
            {"type": "network"},
            {"type": "uts"},
            {"type": "mount"},
        ]
    },
}

FILES: dict[str, Any] = {
    "hosts_path": "/d/hosts",
    "resolv_conf_path": "/d/resolv.conf",
    "hostname_path": "/d/hostname",
}


def test_linux_cni_fragment_and_merge() -> None:
    frag = build_fragment(
        platform="linux",
        mode="cni",
        netns="/run/netns/x",
        hostname="web",
        domainname="example.com",
        **FILES,
    )
    spec = merge_fragment(BASE, frag)
    assert spec["hostname"] == "web" and spec["domainname"] == "example.com"
    assert spec["linux"]["namespaces"] == [
        {"type": "pid"},
        {"type": "network", "path": "/run/netns/x"},
        {"type": "uts"},
        {"type": "mount"},
    ]
    dests = {m["destination"]: m for m in spec["mounts"]}
    assert dests["/etc/hosts"] == {
        "destination": "/etc/hosts",
        "type": "bind",
        "source": "/d/hosts",
        "options": ["bind", "rprivate"],
    }
    assert set(dests) == {"/proc", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname"}
    assert spec["annotations"]["nerdctl/network-namespace"] == "/run/netns/x"
    assert BASE["hostname"] == "old" and len(BASE["mounts"]) == 2  # input untouched
    again = merge_fragment(spec, frag)
    assert again == spec  # merging twice changes nothing


def test_host_mode_and_uts_host_remove_namespaces() -> None:
    frag = build_fragment(platform="linux", mode="host", uts="host", hostname="ignored", **FILES)
    spec = merge_fragment(BASE, frag, user_mounts_win=True)
    assert spec["linux"]["namespaces"] == [{"type": "pid"}, {"type": "mount"}]
    assert spec["hostname"] == "old"
    hosts = [m for m in spec["mounts"] if m["destination"] == "/etc/hosts"]
    assert hosts == [BASE["mounts"][1]]  # the user's read-only mount wins


def test_none_mode_without_path_keeps_fresh_namespace() -> None:
    spec = merge_fragment(
        {"linux": {}}, build_fragment(platform="linux", mode="none", hostname="h")
    )
    assert spec["linux"]["namespaces"] == [{"type": "network"}, {"type": "uts"}]


def test_windows_fragment() -> None:
    guid = "7cb720c0-ac4c-4266-92e1-dc277b2a9b94"
    frag = build_fragment(
        platform="windows", mode="cni", netns=guid, annotations={"nerdctl/networks": '["nat"]'}
    )
    spec = merge_fragment(
        {"windows": {"network": {"endpointList": []}, "layerFolders": ["x"]}}, frag
    )
    assert spec["windows"]["network"] == {
        "endpointList": [],
        "allowUnqualifiedDNSQuery": True,
        "networkNamespace": guid,
    }
    assert spec["windows"]["layerFolders"] == ["x"]
    assert spec["annotations"] == {"nerdctl/networks": '["nat"]', "nerdctl/network-namespace": guid}
    assert "mounts" not in spec and "linux" not in spec


def test_labels_use_nerdctl_keys_and_encodings() -> None:
    opts = NetworkOptions.parse(
        networks=["n1"],
        ip="10.200.1.9",
        mac_address="02:42:ac:11:00:02",
        add_host=["a:1.2.3.4"],
        dns=["10.0.0.2"],
        domainname="example.com",
    )
    mode = Mode(
        kind="cni", refs=("n1",), attachments=(Attachment(network=STORE["n1"], ifname="eth0"),)
    )
    labels = network_labels(
        opts,
        mode,
        name="web",
        hostname="0123456789ab",
        netns="/run/netns/x",
        ports=[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "0.0.0.0"}],
    )
    assert labels == {
        "nerdctl/networks": '["n1"]',
        "nerdctl/hostname": "0123456789ab",
        "nerdctl/extraHosts": '["a:1.2.3.4"]',
        "nerdctl/ports": '[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":"0.0.0.0"}]',
        "nerdctl/name": "web",
        "nerdctl/domainname": "example.com",
        "nerdctl/ip": "10.200.1.9",
        "nerdctl/mac-address": "02:42:ac:11:00:02",
        "nerdctl/dns": '{"DNSServers":["10.0.0.2"],"DNSResolvConfOptions":null,"DNSSearchDomains":null}',
        "nerdctl/network-namespace": "/run/netns/x",
    }
    host = network_labels(
        NetworkOptions.parse(networks=["host"], mac_address="02:42:ac:11:00:02"),
        Mode(kind="host", refs=("host",)),
        hostname="h",
        ports=[PortMapping(host_port=1, container_port=1)],
    )
    assert json.loads(host["nerdctl/networks"]) == ["host"]
    assert "nerdctl/mac-address" not in host and host["nerdctl/extraHosts"] == "null"
