"""The main job, as a user runs it: an HTTP server under ``ctrnet run -p PORT:80`` on the default
network, fetched from the host over 127.0.0.1, then stopped, leaving no sandbox behind.

Run as root from the venv (``bash scripts/dev demo``). It uses ctrnet's real defaults
(``/etc/cni/net.d``, ``/var/lib/ctrnet``, the default ``bridge`` network, created on first use like
nerdctl's; if the demo created it, the demo removes it again with its bridge and firewall rules).
Safe to run twice: the sandbox ID is unique to the run, and the server is stopped with SIGTERM (so
ctrnet tears its sandbox down) even when a step fails.
"""

from __future__ import annotations

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
from pathlib import Path

CTRNET = [sys.executable, "-m", "ctrnet"]
LEASES = Path("/var/lib/cni/networks")


def free_port(preferred: int = 8080) -> int:
    """``preferred`` if nothing listens on it, else a free ephemeral port."""
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", preferred))
            return preferred
        except OSError:
            sock.bind(("0.0.0.0", 0))
            return int(sock.getsockname()[1])


def fetch(url: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def server_command(www: Path) -> list[str]:
    """busybox httpd if installed (fast), else Python's http.server."""
    busybox = shutil.which("busybox")
    if busybox:
        return [busybox, "httpd", "-f", "-p", "80", "-h", str(www)]
    return [sys.executable, "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory", str(www)]


def leftovers(sandbox_id: str) -> list[str]:
    """What of the sandbox is still on the host: record, namespace, leases, firewall rules."""
    found = []
    ps = subprocess.run([*CTRNET, "ps", "-q"], capture_output=True, text=True, check=False)
    if sandbox_id in ps.stdout.split():
        found.append(f"sandbox {sandbox_id}")
    if Path("/run/netns", f"ctrnet-{sandbox_id}").exists():
        found.append(f"namespace ctrnet-{sandbox_id}")
    for lease in LEASES.glob("*/*") if LEASES.is_dir() else []:
        if lease.is_file() and sandbox_id in lease.read_text(errors="replace"):
            found.append(f"lease {lease}")
    for table in ("nat", "filter"):
        rules = subprocess.run(
            ["iptables", "-w", "-t", table, "-S"], capture_output=True, text=True, check=False
        ).stdout
        found += [f"rule {r}" for r in rules.splitlines() if sandbox_id in r]
    return found


def default_network_file() -> str | None:
    """The conflist of the default network in /etc/cni/net.d, if there is one."""
    from ctrnet._settings import Settings
    from ctrnet.networks import NetworkStore

    net = NetworkStore(Settings.from_env()).default()
    return net.file if net is not None else None


def remove_default_network(path: str) -> None:
    """Undo the default network the demo made: its file, bridge, isolation rules, lease dir."""
    from ctrnet._settings import Settings
    from ctrnet.networks import NetworkStore, _host

    net = NetworkStore(Settings.from_env()).default()
    if net is None or net.file != path:
        return
    os.unlink(path)
    if net.bridge:
        _host.delete_isolation_rules(net.bridge)
        _host.delete_bridge(net.bridge)
    _host.remove_lease_dir(net.name)
    print(f"removed the default network {net.name!r} the demo created ({path})")


def main() -> int:
    if os.geteuid() != 0:
        print("demo: run as root (bash scripts/dev demo)", file=sys.stderr)
        return 1
    sandbox_id = "demo-" + secrets.token_hex(6)
    had_default = default_network_file() is not None
    port = free_port()
    www = Path(tempfile.mkdtemp(prefix="ctrnet-demo-"))
    (www / "index.html").write_text(f"hello from ctrnet sandbox {sandbox_id}\n")
    www.chmod(0o755)
    argv = [*CTRNET, "run", "--id", sandbox_id, "-p", f"{port}:80", "--dns", "127.0.0.1",
            "--", *server_command(www)]  # fmt: skip
    print("$ ctrnet " + " ".join(argv[3:]))
    server = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    code = 1
    try:
        body = fetch(f"http://127.0.0.1:{port}/")
        print(f"GET http://127.0.0.1:{port}/ -> {body.strip()!r}")
        code = 0 if sandbox_id in body else 1
    except OSError as exc:
        print(f"demo: the server did not answer on 127.0.0.1:{port}: {exc}", file=sys.stderr)
    finally:
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
        shutil.rmtree(www, ignore_errors=True)
    print(f"server stopped (ctrnet run exited {status})")
    created = default_network_file()
    if not had_default and created:
        remove_default_network(created)
    left = leftovers(sandbox_id)
    if left:
        print("demo: left behind: " + "; ".join(left), file=sys.stderr)
        return 1
    print("nothing left behind: no sandbox record, namespace, lease or firewall rule")
    return code


if __name__ == "__main__":
    sys.exit(main())
