"""Conflists written by nerdctl (hand-written here, byte for byte) are listed, used and removed.

The files follow nerdctl-network-manager.md 5.3: the default network as v1.7 writes it
(``nerdctlLabels`` present) and a user network with ``--ip-range`` as v2 writes it (empty labels
omitted). Only the values a shared host forbids are changed: bridge devices carry the test prefix
(nerdctl would say ``nerdctl0`` / ``br-<id[:12]>``) and subnets come from the test range.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import subprocess
from collections.abc import Callable, Iterator

import pytest

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings
from ctrnet.manager import NetworkManager, NetworkOptions
from tests.integration.test_network_traffic import ctrnet
from tests.support import host
from tests.support.reliability import remove_bridge

pytestmark = pytest.mark.root

DEFAULT_V17 = """{
  "cniVersion": "1.0.0",
  "name": "bridge",
  "nerdctlID": "17f29b073143d8cd97b5bbe492bdeffec1c5fee55cc1fe2112c8b9335f8b6121",
  "nerdctlLabels": {
    "nerdctl/default-network": "true"
  },
  "plugins": [
    {
      "type": "bridge",
      "bridge": "%(bridge)s",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "ranges": [
          [
            {
              "gateway": "%(gateway)s",
              "subnet": "%(subnet)s"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ],
        "type": "host-local"
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    },
    {
      "type": "firewall",
      "ingressPolicy": "same-bridge"
    },
    {
      "type": "tuning"
    }
  ]
}"""

USER_V2 = """{
  "cniVersion": "1.0.0",
  "name": "%(name)s",
  "nerdctlID": "%(id)s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "%(bridge)s",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "ranges": [
          [
            {
              "gateway": "%(gateway)s",
              "ipRange": "%(ip_range)s",
              "rangeEnd": "%(range_end)s",
              "rangeStart": "%(range_start)s",
              "subnet": "%(subnet)s"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ],
        "type": "host-local"
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    },
    {
      "type": "firewall",
      "ingressPolicy": "same-bridge"
    },
    {
      "type": "tuning"
    }
  ]
}"""


@pytest.fixture
def bridges(prefix: str) -> Iterator[tuple[str, str]]:
    names = (f"{prefix}d0", f"{prefix}u0")
    yield names
    for name in names:
        remove_bridge(name)


def addresses(netns: str) -> list[ipaddress.IPv4Interface]:
    out = subprocess.run(
        ["ip", "-n", os.path.basename(netns), "-j", "-4", "addr", "show", "dev", "eth0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}")
        for link in json.loads(out)
        for a in link["addr_info"]
    ]


def test_nerdctl_written_networks_are_listed_inspected_used_and_removed(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet_factory: Callable[[], ipaddress.IPv4Network],
    bridges: tuple[str, str],
) -> None:
    default_subnet, user_subnet = subnet_factory(), subnet_factory()
    # the manager's default network is found by label; its subnet setting must not matter
    settings = settings.with_(default_bridge=bridges[0], default_subnet=str(default_subnet))
    user = f"{prefix}-user"
    user_id = hashlib.sha256(user.encode()).hexdigest()
    ip_range = next(user_subnet.subnets(new_prefix=25))
    files = {
        "nerdctl-bridge.conflist": DEFAULT_V17
        % {
            "bridge": bridges[0],
            "gateway": default_subnet.network_address + 1,
            "subnet": default_subnet,
        },
        f"nerdctl-{user}.conflist": USER_V2
        % {
            "name": user,
            "id": user_id,
            "bridge": bridges[1],
            "gateway": user_subnet.network_address + 1,
            "ip_range": ip_range,
            "range_end": ip_range.broadcast_address,
            "range_start": ip_range.network_address + 1,
            "subnet": user_subnet,
        },
    }
    for filename, text in files.items():
        with open(os.path.join(settings.conf_dir, filename), "w") as fh:
            fh.write(text)

    listed = ctrnet(settings, "network", "ls", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["Name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert set(rows) == {"bridge", user}
    assert rows["bridge"]["ID"] == "17f29b073143" and rows["bridge"]["Default"] is True
    assert rows[user]["ID"] == user_id[:12] and rows[user]["Default"] is False
    assert rows[user]["Subnets"] == [str(user_subnet)] and rows[user]["Driver"] == "bridge"

    inspected = ctrnet(settings, "network", "inspect", user_id[:5])
    assert inspected.returncode == 0, inspected.stderr
    (view,) = json.loads(inspected.stdout)
    assert view["Name"] == user and view["Id"] == user_id
    assert view["IPAM"]["Config"] == [
        {
            "Subnet": str(user_subnet),
            "Gateway": str(user_subnet.network_address + 1),
            "IPRange": str(ip_range),
        }
    ]
    native = ctrnet(settings, "network", "inspect", "--mode", "native", "bridge")
    assert json.loads(native.stdout)[0]["CNI"] == json.loads(files["nerdctl-bridge.conflist"])

    mgr = NetworkManager(settings)
    try:
        on_default = mgr.setup(f"{prefix}-s0", NetworkOptions(dns_servers=("127.0.0.1",)))
        on_user = mgr.setup(
            f"{prefix}-s1", NetworkOptions(networks=(user_id[:12],), dns_servers=("127.0.0.1",))
        )
        assert on_default.networks[0].network == "bridge"
        assert [a.ip in default_subnet for a in addresses(on_default.netns)] == [True]
        assert on_user.networks[0].network == user
        assert [a.ip in ip_range for a in addresses(on_user.netns)] == [True]
        busy = ctrnet(settings, "network", "rm", user)
        assert busy.returncode == 4 and f"{prefix}-s1" in busy.stderr
    finally:
        for sandbox_id in (f"{prefix}-s1", f"{prefix}-s0"):
            with contextlib.suppress(CtrnetError):
                mgr.cleanup(sandbox_id)

    removed = ctrnet(settings, "network", "rm", user)
    assert removed.returncode == 0, removed.stderr
    assert not os.path.exists(f"/sys/class/net/{bridges[1]}")
    kept = ctrnet(settings, "network", "rm", "bridge")
    assert kept.returncode == 4 and "is the default network" in kept.stderr
    remaining = sorted(f for f in os.listdir(settings.conf_dir) if not f.startswith("."))
    assert remaining == ["nerdctl-bridge.conflist"]
    with open(os.path.join(settings.conf_dir, remaining[0])) as fh:
        assert fh.read() == files["nerdctl-bridge.conflist"], "ctrnet rewrote nerdctl's file"
    # what stays belongs to the default network, which is never removed: its bridge and the
    # firewall plugin's isolation rules for it
    left = host.leftovers(prefix, [user])
    assert f"link {bridges[0]}" in left
    assert all(bridges[0] in item and bridges[1] not in item for item in left), left
