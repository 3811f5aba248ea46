"""``ctrnet run`` of a plain process: its sandbox's hostname and files, exit codes, SIGTERM."""

from __future__ import annotations

import ipaddress
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from tests.e2e.conftest import CTRNET, stop

pytestmark = pytest.mark.e2e

Ctrnet = Callable[..., subprocess.CompletedProcess[str]]


def test_process_sees_its_hostname_and_hosts_file_and_returns_its_exit_code(
    no_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    prefix: str,
    subnet: ipaddress.IPv4Network,
) -> None:
    host_name = socket.gethostname()
    proc = ctrnet(
        "run", "--id", f"{prefix}-p1", "--hostname", f"{prefix}box", "--dns", "127.0.0.1",
        "--add-host", "db.example:10.9.9.9",
        "--", "sh", "-c", "hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; exit 7",
    )  # fmt: skip
    assert proc.returncode == 7, proc.stderr
    name, hosts, resolv = proc.stdout.split("---\n")
    assert name.strip() == f"{prefix}box"
    own = [line.split() for line in hosts.splitlines() if line.endswith(f"{prefix}box")]
    assert own and ipaddress.ip_address(own[0][0]) in subnet
    assert "10.9.9.9" in hosts and "db.example" in hosts
    assert resolv.strip() == "nameserver 127.0.0.1"
    assert socket.gethostname() == host_name  # the host kept its own
    assert f"{prefix}box" not in Path("/etc/hosts").read_text()


def test_process_exit_by_signal_and_missing_command(
    no_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    prefix: str,
    sandbox_leftovers: Callable[[], list[str]],
) -> None:
    killed = ctrnet("run", "--id", f"{prefix}-p2", "--", "sh", "-c", "kill -KILL $$")
    assert killed.returncode == 128 + signal.SIGKILL
    missing = ctrnet("run", "--id", f"{prefix}-p3", "--", f"{prefix}-no-such-command")
    assert missing.returncode == 127
    assert f"command '{prefix}-no-such-command' not found" in missing.stderr
    assert not sandbox_leftovers()


def test_run_killed_with_sigterm_still_tears_down(
    no_leftovers: Callable[[], list[str]],
    ctrnet_env: Mapping[str, str],
    e2e_settings: Settings,
    prefix: str,
    sandbox_leftovers: Callable[[], list[str]],
) -> None:
    sid = f"{prefix}-term"
    proc = subprocess.Popen(
        [*CTRNET, "run", "--id", sid, "--", "sh", "-c", "echo started; exec sleep 60"],
        env=dict(ctrnet_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        record = Path(e2e_settings.data_root, "sandboxes", sid, "sandbox.json")
        assert record.exists()
        assert any(sid in n.name for n in Path(e2e_settings.netns_dir).iterdir())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM  # sleep got the forwarded SIGTERM
    finally:
        stop(proc)
    assert not record.parent.exists()
    assert not sandbox_leftovers()


def test_no_rm_keeps_the_sandbox_until_teardown(
    no_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    prefix: str,
    sandbox_leftovers: Callable[[], list[str]],
) -> None:
    sid = f"{prefix}-keep"
    try:
        first = ctrnet("run", "--id", sid, "--no-rm", "--", "true")
        assert first.returncode == 0, first.stderr
        assert first.stderr.strip() == sid
        assert sandbox_leftovers()  # its namespace is still there
        again = ctrnet("run", "--id", sid, "--", "true")
        assert again.returncode == 4  # the ID is taken; the kept sandbox is left alone
        assert sandbox_leftovers()
    finally:
        done = ctrnet("teardown", sid)
    assert done.returncode == 0, done.stderr
    assert not sandbox_leftovers()


def test_a_terminal_on_stdin_is_the_process_terminal(
    no_leftovers: Callable[[], list[str]],
    ctrnet_env: Mapping[str, str],
    prefix: str,
    sandbox_leftovers: Callable[[], list[str]],
) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*CTRNET, "run", "--id", f"{prefix}-tty", "--", "sh", "-c",
         "tty; read line; echo got:$line; exit 3"],
        env=dict(ctrnet_env), stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"/dev/pts/" not in seen and time.monotonic() < deadline:
            seen += _read_some(master)
        os.write(master, b"typed here\n")
        while b"got:typed here" not in seen and time.monotonic() < deadline:
            seen += _read_some(master)
        assert proc.wait(timeout=60) == 3
    finally:
        stop_popen(proc)
        os.close(master)
    text = seen.decode(errors="replace")
    assert "/dev/pts/" in text and "got:typed here" in text, text
    assert not sandbox_leftovers()


def _read_some(fd: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], 1)
    if not ready:
        return b""
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the other side closed
        return b""


def stop_popen(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
