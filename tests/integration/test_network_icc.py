"""icc=false with the real firewall plugin: what attaching does, and what ``create`` decides."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Callable, Iterator

import pytest

from ctrnet._errors import CtrnetError, PluginError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from ctrnet.networks import NetworkStore
from ctrnet.networks._names import conflist_filename, network_id
from ctrnet.networks.conflist import document, render
from ctrnet.networks.firewall import probe_ingress_policy
from tests.integration.test_network_traffic import ctrnet
from tests.support import host
from tests.support.reliability import remove_bridge

pytestmark = pytest.mark.root


@pytest.fixture
def bridge(prefix: str) -> Iterator[str]:
    name = f"{prefix}ib"
    yield name
    remove_bridge(name)


def isolated_conflist(name: str, bridge: str, subnet: ipaddress.IPv4Network) -> bytes:
    """The file nerdctl >= 2.1.4 writes for ``network create -o icc=false``."""
    return render(
        document(
            name,
            {},
            [
                {
                    "type": "bridge",
                    "bridge": bridge,
                    "isGateway": True,
                    "ipMasq": True,
                    "hairpinMode": True,
                    "ipam": {
                        "ranges": [
                            [{"gateway": str(subnet.network_address + 1), "subnet": str(subnet)}]
                        ],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "type": "host-local",
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
                {"type": "firewall", "ingressPolicy": "isolated"},
                {"type": "tuning"},
            ],
        )
    )


def test_the_probe_predicts_what_attaching_to_an_isolated_network_does(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    bridge: str,
) -> None:
    name = f"{prefix}-iso"
    path = os.path.join(settings.conf_dir, conflist_filename(name))
    with open(path, "wb") as fh:
        fh.write(isolated_conflist(name, bridge, subnet))
    assert NetworkStore(settings).get(name).id == network_id(name)
    probe = probe_ingress_policy(settings, "isolated")
    assert probe.supported is not None, probe.detail
    mgr = NetworkManager(settings)
    sandbox_id = f"{prefix}-s0"
    try:
        if probe.supported:
            sandbox = mgr.setup(sandbox_id, NetworkOptions(networks=(name,)))
            assert sandbox.networks[0].ips
            return
        with pytest.raises(PluginError) as err:
            mgr.setup(sandbox_id, NetworkOptions(networks=(name,), dns_servers=("127.0.0.1",)))
        assert err.value.plugin == "firewall"
        assert 'unknown ingress policy: "isolated"' in str(err.value)
        # the failed setup rolled itself back: only the bridge (removed by network rm) stays
        assert host.leftovers(prefix, [name]) == [f"link {bridge}"]
        assert mgr.list() == []
    finally:
        with contextlib.suppress(CtrnetError):
            mgr.cleanup(sandbox_id)
        NetworkStore(settings).remove(name)
    assert not os.path.exists(f"/sys/class/net/{bridge}")


def test_create_with_icc_false_follows_the_installed_firewall_plugin(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    bridge: str,
) -> None:
    supported = probe_ingress_policy(settings, "isolated").supported
    name = f"{prefix}-iso"
    done = ctrnet(
        settings, "network", "create", name, "--subnet", str(subnet),
        "-o", "icc=false", "-o", f"com.docker.network.bridge.name={bridge}",
    )  # fmt: skip
    files = [f for f in os.listdir(settings.conf_dir) if f.endswith(".conflist")]
    if supported is False:
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith("Error: option icc=false needs the firewall plugin's")
        assert 'unknown ingress policy: "isolated"' in done.stderr
        assert "upgrade the CNI plugins, or drop icc=false" in done.stderr
        assert files == []
        assert host.leftovers(prefix) == []
    else:
        assert done.returncode == 0, done.stderr
        assert files == [conflist_filename(name)]
        NetworkStore(settings).remove(name)
    open_net = ctrnet(
        settings, "network", "create", name, "--subnet", str(subnet),
        "-o", "icc=true", "-o", f"com.docker.network.bridge.name={bridge}",
    )  # fmt: skip
    assert open_net.returncode == 0, open_net.stderr
    NetworkStore(settings).remove(name)
