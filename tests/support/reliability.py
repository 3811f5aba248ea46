"""Helpers of the reliability suites: the CLI in a subprocess, pause-and-kill, residue checks."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ctrnet._settings import Settings
from ctrnet.networks import NetworkCreateOptions, NetworkStore
from ctrnet.networks._host import delete_bridge, delete_isolation_rules
from tests.support import host
from tests.support.testplugin import install


def cli_argv(settings: Settings, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ctrnet",
        "--cni-netconfpath",
        settings.conf_dir,
        "--cni-cachedir",
        settings.cache_dir,
        "--cni-path",
        ":".join(settings.cni_path),
        "--data-root",
        settings.data_root,
        *args,
    ]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    env["CTRNET_DEFAULT_BRIDGE"] = settings.default_bridge
    env["CTRNET_NETNS_DIR"] = settings.netns_dir
    env.update(extra)
    return env


def cli(settings: Settings, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run ``ctrnet ARGS`` against ``settings``' directories; never raises on a non-zero exit."""
    return subprocess.run(
        cli_argv(settings, *args),
        capture_output=True,
        text=True,
        env=cli_env(settings, **extra_env),
        check=False,
        timeout=180,
    )


def gc_report(settings: Settings, *flags: str) -> dict[str, list[dict[str, str]]]:
    """``ctrnet gc --format json FLAGS``: asserts it exits 0 with no errors; its JSON report."""
    done = cli(settings, "gc", "--format", "json", *flags)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, list[dict[str, str]]] = json.loads(done.stdout)
    assert report["errors"] == []
    return report


def start_paused(
    settings: Settings, step: str, args: Sequence[str], timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """Start ``ctrnet ARGS`` with the pause hook at ``step``; return once it waits there."""
    proc = subprocess.Popen(
        cli_argv(settings, *args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cli_env(settings, CTRNET_TEST_PAUSE_AT=step),
    )
    assert proc.stderr is not None
    want = f"paused at {step}".encode()
    seen = b""
    deadline = time.monotonic() + timeout
    while want not in seen:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stderr], [], [], max(left, 0))
        if not ready:
            kill(proc)
            raise AssertionError(f"ctrnet never reached {step!r}: {seen.decode(errors='replace')}")
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            proc.wait()
            raise AssertionError(
                f"ctrnet exited ({proc.returncode}) before {step!r}: "
                f"{seen.decode(errors='replace')}"
            )
        seen += chunk
    return proc


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process we started, by its PID, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def subnet_text(subnet: ipaddress.IPv4Network) -> str:
    """The address prefix every rule naming one of the subnet's hosts contains ("10.200.5.")."""
    return str(subnet.network_address).rsplit(".", 1)[0] + "."


def bridge_ports(bridge: str) -> list[str]:
    proc = subprocess.run(
        ["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True, check=False
    )
    return (
        [str(x["ifname"]) for x in json.loads(proc.stdout or "[]")] if proc.returncode == 0 else []
    )


def residue(
    settings: Settings,
    prefix: str,
    network: str,
    subnet: ipaddress.IPv4Network,
    bridge: str | None = None,
) -> list[str]:
    """Everything a sandbox of ``prefix`` on ``network`` may leave: what must be empty after."""
    found = host.leftovers(prefix, [network])
    found += [f"netns {n}" for n in host.namespaces() if n.startswith(f"ctrnet-{prefix}")]
    text = subnet_text(subnet)
    # a sandbox's own rules name its host address (x.y.z.N/32); the bridge's own keep the /24
    found += [
        f"rule {r}"
        for r in host.iptables_rules()
        if text in r and f"{subnet.network_address}/{subnet.prefixlen}" not in r
    ]
    found += [f"record {p.name}" for p in _entries(Path(settings.data_root, "sandboxes"))]
    found += [f"cache {p.name}" for p in _entries(Path(settings.cache_dir, "results"))]
    if bridge:
        found += [f"bridge port {p}" for p in bridge_ports(bridge)]
    return found


def _entries(directory: Path) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except FileNotFoundError:
        return []


def remove_bridge(name: str) -> None:
    """Teardown: delete a test's bridge and its isolation rules, skipping what is already gone."""
    with contextlib.suppress(Exception):
        delete_isolation_rules(name)
    with contextlib.suppress(Exception):
        delete_bridge(name)


@contextlib.contextmanager
def flaky_del_network(
    settings: Settings, prefix: str, subnet: ipaddress.IPv4Network, marker: Path, bin_dir: Path
) -> Iterator[tuple[Settings, str, str]]:
    """A conflist ``<prefix>-net``: bridge ``<prefix>b0`` (ipMasq, host-local) + the test plugin
    ``flaky`` whose DEL fails while ``marker`` exists; yields (settings that find the plugin,
    network, bridge). At exit: marker removed, ``<prefix>-sb`` torn down, gc, bridge deleted."""
    install(bin_dir, "flaky")
    network, bridge = f"{prefix}-net", f"{prefix}b0"
    conf = {
        "cniVersion": "1.0.0",
        "name": network,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": True,
                "ipam": {"type": "host-local", "ranges": [[{"subnet": str(subnet)}]]},
            },
            {
                "type": "flaky",
                "testplugin": {
                    "on": {
                        "DEL": {
                            "while": str(marker),
                            "error": {"code": 11, "msg": "DEL refused on purpose"},
                        }
                    }
                },
            },
        ],
    }
    Path(settings.conf_dir, f"{network}.conflist").write_text(json.dumps(conf))
    flaky = settings.with_(cni_path=(*settings.cni_path, str(bin_dir)))
    try:
        yield flaky, network, bridge
    finally:
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
        cli(flaky, "teardown", f"{prefix}-sb")
        cli(flaky, "gc")
        with contextlib.suppress(Exception):
            delete_bridge(bridge)


@contextlib.contextmanager
def managed_network(settings: Settings, name: str, subnet: ipaddress.IPv4Network) -> Iterator[str]:
    """A bridge network made by the store; at exit every sandbox is reclaimed and it is removed."""
    store = NetworkStore(settings)
    net = store.create(NetworkCreateOptions(name=name, subnets=(str(subnet),)))
    bridge = net.bridge or ""
    try:
        yield bridge
    finally:
        from ctrnet.manager import NetworkManager

        manager = NetworkManager(settings)
        for sandbox in manager.list():
            with contextlib.suppress(Exception):
                manager.cleanup(sandbox.id)
        with contextlib.suppress(Exception):
            from ctrnet.manager.gc import collect_garbage

            collect_garbage(settings)
        with contextlib.suppress(Exception):
            store.remove(name)
        if bridge:
            remove_bridge(bridge)
