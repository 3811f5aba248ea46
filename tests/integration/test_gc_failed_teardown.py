"""A teardown whose DEL fails keeps the record (state ``removing``, with the error) and the
namespace, so that a later ``ctrnet teardown`` or ``ctrnet gc`` retries and leaves nothing.

The network is the real bridge plugin followed by the fault-injection test plugin, whose DEL fails
while a marker file exists (removing the marker heals it).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.networks._host import delete_bridge
from tests.support import host
from tests.support.reliability import bridge_ports, cli, flaky_del_network, residue

pytestmark = pytest.mark.root


def _ps(settings: Settings) -> list[dict[str, object]]:
    done = cli(settings, "ps", "--format", "json")
    assert done.returncode == 0, done.stderr
    data: list[dict[str, object]] = json.loads(done.stdout)
    return data


@pytest.mark.parametrize("retry", ["teardown", "gc"])
def test_failed_del_keeps_the_record_until_a_retry_succeeds(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    tmp_path: Path,
    retry: str,
) -> None:
    marker = tmp_path / "del-fails"
    with flaky_del_network(settings, prefix, subnet, marker, tmp_path / "bin") as (
        flaky,
        network,
        bridge,
    ):
        sid = f"{prefix}-sb"
        up = cli(flaky, "setup", sid, "-n", network, "--dns", "127.0.0.1", "--format", "json")
        assert up.returncode == 0, up.stderr
        address = json.loads(up.stdout)["networks"][0]["ips"][0].split("/")[0]
        marker.touch()

        down = cli(flaky, "teardown", sid)
        assert down.returncode != 0
        assert "DEL refused on purpose" in down.stderr
        assert f"ctrnet teardown {sid}" in down.stderr  # says how to retry
        [row] = _ps(flaky)
        assert row["id"] == sid and row["state"] == "removing"
        assert any("DEL refused on purpose" in str(e) for e in row["errors"])  # type: ignore[attr-defined]
        table = cli(flaky, "ps")
        assert "removing" in table.stdout
        # every plugin's DEL ran (bridge released its lease); what the failed one holds stays
        # tracked: the namespace (the retry DELs into it) and the cached result
        assert f"ctrnet-{sid}" in host.namespaces()
        assert not any(address == lease for lease in host.leases(network))
        assert any(sid in p.name for p in Path(settings.cache_dir, "results").iterdir())

        # a retry while the plugin still fails changes nothing and keeps the record
        again = cli(flaky, "gc", "--format", "json")
        assert again.returncode == 1
        assert [r["id"] for r in _ps(flaky)] == [sid]

        marker.unlink()  # the plugin is healthy again
        if retry == "teardown":
            done = cli(flaky, "teardown", sid)
            assert done.returncode == 0, done.stderr
        else:
            done = cli(flaky, "gc", "--format", "json")
            assert done.returncode == 0, done.stdout + done.stderr
            reclaimed = json.loads(done.stdout)["reclaimed"]
            assert any(r["kind"] == "sandbox" and r["name"] == sid for r in reclaimed)
        assert _ps(flaky) == []
        assert bridge_ports(bridge) == []
        delete_bridge(bridge)  # the network's own, not the sandbox's
        assert residue(flaky, prefix, network, subnet) == []
        assert not any(sid in rule for rule in host.iptables_rules())
        assert not os.path.exists(Path(settings.data_root, "sandboxes", sid))
