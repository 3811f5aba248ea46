"""The main job, as a user runs it: an HTTP server under ``ctrnet run -p PORT:80`` on the default
network, fetched from the host over 127.0.0.1, then stopped, leaving no sandbox behind.

Run as root from the venv (``bash scripts/dev demo``). It uses ctrnet's real defaults
(``/etc/cni/net.d``, ``/var/lib/ctrnet``, the default ``bridge`` network on ``nerdctl0`` /
``10.4.0.0/24``, created on first use like nerdctl's), or whatever ``NETCONFPATH`` /
``CTRNET_*`` say. An existing default network is used and kept. If there is none, the demo first
checks that its subnet and bridge are free on the host — if they are taken (say, by someone
else's ``nerdctl0``) it says so and stops, changing nothing — and afterwards removes the network
it created (``NetworkStore.remove(..., allow_default=True)``) with its bridge and firewall rules.
Every step runs under ``try/finally``, also on Ctrl-C or SIGTERM: the server is stopped with
SIGTERM (so ``ctrnet run`` tears its sandbox down), then the network is removed, then the host is
checked for leftovers.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings
from ctrnet.networks import Network, NetworkStore
from ctrnet.networks.subnets import host_subnets

CTRNET = [sys.executable, "-m", "ctrnet"]
LEASES = Path("/var/lib/cni/networks")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """The demo got SIGINT/SIGTERM/SIGHUP: unwind and clean up."""


class _Stop:
    """The first stop signal raises ``Interrupted`` (later ones are noted only), except inside
    ``held()`` (starting the server: an exception there would lose the child), where it waits
    until the block ends."""

    def __init__(self) -> None:
        self.pending: str | None = None
        self.holding = False
        self.raised = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        self.pending = self.pending or signal.Signals(signum).name
        if not self.holding:
            self._raise()

    def _raise(self) -> None:
        if self.pending and not self.raised:  # once: a second signal must not cut the clean-up
            self.raised = True
            raise Interrupted(self.pending)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        self._raise()


STOP = _Stop()


def free_port(preferred: int = 8080) -> int:
    """``preferred`` if nothing listens on it, else a free ephemeral port."""
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", preferred))
            return preferred
        except OSError:
            sock.bind(("0.0.0.0", 0))
            return int(sock.getsockname()[1])


def fetch(url: str, server: subprocess.Popen[str], timeout: float = 30) -> str:
    """GET ``url``, retrying while the server starts (gives up if ``ctrnet run`` exits)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.2)


def server_command(www: Path) -> list[str]:
    """busybox httpd if installed (fast), else Python's http.server."""
    busybox = shutil.which("busybox")
    if busybox:
        return [busybox, "httpd", "-f", "-p", "80", "-h", str(www)]
    return [sys.executable, "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory", str(www)]


def _rules_naming(word: str, *, token: bool = True) -> list[str]:
    """iptables rules (nat, filter) with ``word`` as a whole token, or anywhere."""
    found = []
    for table in ("nat", "filter"):
        rules = subprocess.run(
            ["iptables", "-w", "-t", table, "-S"], capture_output=True, text=True, check=False
        ).stdout
        found += [
            f"rule {r}" for r in rules.splitlines() if (word in r.split() if token else word in r)
        ]
    return found


def why_not(settings: Settings) -> str | None:
    """Why the demo must not create the default network here, or ``None`` if it may (or need
    not: the network exists already). Only reads."""
    store = NetworkStore(settings)
    if store.default() is not None:
        return None
    try:
        wanted = ipaddress.ip_network(settings.default_subnet)
    except ValueError:
        return f"the default subnet {settings.default_subnet!r} is not a subnet"
    for used in host_subnets():
        if used.network.version == wanted.version and used.network.overlaps(wanted):
            return f"the default subnet {wanted} is already in use on this host ({used.owner})"
    bridge = settings.default_bridge
    if os.path.exists(f"/sys/class/net/{bridge}"):
        return f"a link named {bridge} (the default bridge) already exists on this host"
    if _rules_naming(bridge):
        return f"firewall rules for {bridge} (the default bridge) already exist on this host"
    return None


def leftovers(sandbox_id: str, env: dict[str, str], created: Network | None) -> list[str]:
    """What of the sandbox (and of the network the demo created) is still on the host."""
    found = []
    ps = subprocess.run([*CTRNET, "ps", "-q"], capture_output=True, text=True, env=env, check=False)
    if sandbox_id in ps.stdout.split():
        found.append(f"sandbox {sandbox_id}")
    if Path(Settings.from_env(env).netns_dir, f"ctrnet-{sandbox_id}").exists():
        found.append(f"namespace ctrnet-{sandbox_id}")
    for lease in LEASES.glob("*/*") if LEASES.is_dir() else []:
        if lease.is_file() and sandbox_id in lease.read_text(errors="replace"):
            found.append(f"lease {lease}")
    found += _rules_naming(sandbox_id, token=False)
    if created is not None:
        if Path(created.file).exists():
            found.append(f"network file {created.file}")
        if created.bridge and os.path.exists(f"/sys/class/net/{created.bridge}"):
            found.append(f"bridge {created.bridge}")
        if created.bridge:
            found += _rules_naming(created.bridge)
    return found


def remove_created(settings: Settings, before: Network | None) -> Network | None:
    """Remove the default network if the demo made it (there was none before); returns it."""
    if before is not None:
        return None
    store = NetworkStore(settings)
    net = store.default()
    if net is None:
        return None
    try:
        store.remove(net.name, allow_default=True)
    except CtrnetError as exc:
        print(f"demo: kept the default network {net.name!r}: {exc}", file=sys.stderr)
        return net
    print(f"removed the default network {net.name!r} the demo created ({net.file})")
    return net


def serve_and_fetch(sandbox_id: str, env: dict[str, str]) -> int:
    """Start the server under ``ctrnet run``, fetch it, stop it; 0 if the page came back."""
    port = free_port()
    www = Path(tempfile.mkdtemp(prefix="ctrnet-demo-"))
    server: subprocess.Popen[str] | None = None
    code = 1
    try:
        (www / "index.html").write_text(f"hello from ctrnet sandbox {sandbox_id}\n")
        www.chmod(0o755)
        argv = [*CTRNET, "run", "--id", sandbox_id, "-p", f"{port}:80", "--dns", "127.0.0.1",
                "--", *server_command(www)]  # fmt: skip
        print("$ ctrnet " + " ".join(argv[3:]))
        with STOP.held():  # a signal now must not leave the child running unknown to us
            server = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
        try:
            body = fetch(f"http://127.0.0.1:{port}/", server)
            print(f"GET http://127.0.0.1:{port}/ -> {body.strip()!r}")
            code = 0 if sandbox_id in body else 1
        except OSError as exc:
            print(f"demo: the server did not answer on 127.0.0.1:{port}: {exc}", file=sys.stderr)
    finally:
        if server is not None:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)  # ctrnet forwards it, then tears down
            try:
                status = server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                status = server.wait()
            errors = server.stderr.read() if server.stderr else ""
            if errors.strip():
                print(errors.strip(), file=sys.stderr)
            print(f"server stopped (ctrnet run exited {status})")
        shutil.rmtree(www, ignore_errors=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--id", default="demo-" + secrets.token_hex(6), help="sandbox ID")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("demo: run as root (bash scripts/dev demo)", file=sys.stderr)
        return 1
    env = dict(os.environ)
    settings = Settings.from_env(env)
    reason = why_not(settings)
    if reason is not None:
        print(
            f"demo: {reason}; nothing was changed. Point the default network elsewhere "
            "(CTRNET_DEFAULT_SUBNET=... CTRNET_DEFAULT_BRIDGE=...) and run it again.",
            file=sys.stderr,
        )
        return 1
    before = NetworkStore(settings).default()
    if before is not None:
        print(f"using the existing default network {before.name!r} ({before.file}); it is kept")
    for sig in STOP_SIGNALS:
        signal.signal(sig, STOP.handler)
    code = 1
    created: Network | None = None
    try:
        code = serve_and_fetch(args.id, env)
    except Interrupted as stop:
        print(f"demo: interrupted ({stop}); cleaning up", file=sys.stderr)
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # the clean-up itself is not interrupted
        created = remove_created(settings, before)
    left = leftovers(args.id, env, created)
    if left:
        print("demo: left behind: " + "; ".join(left), file=sys.stderr)
        return 1
    print("nothing left behind: no sandbox record, namespace, lease, firewall rule or network")
    return code


if __name__ == "__main__":
    sys.exit(main())
