"""Waiting for a child: exit codes, signal forwarding, escalation after the grace period."""

from __future__ import annotations

import os
import signal
import sys

from ctrnet.runtime.supervise import SignalMask, blocked_signals, wait_forwarding

_CHILD = """
import signal, sys, time
mode = sys.argv[1]
if mode == "handle":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))
elif mode == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def _spawn(mode: str, old_mask: SignalMask) -> int:
    r, w = os.pipe()
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-c", _CHILD, mode],
        dict(os.environ),
        file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)],
        setsigmask=old_mask,
    )
    os.close(w)
    with os.fdopen(r) as out:
        assert out.readline() == "ready\n"
    return pid


def test_exit_code_is_returned() -> None:
    with blocked_signals() as old:
        pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 5"], dict(os.environ), setsigmask=old)
        assert wait_forwarding(pid) == 5


def test_death_by_signal_is_128_plus_the_signal() -> None:
    with blocked_signals() as old:
        pid = os.posix_spawn(
            "/bin/sh", ["sh", "-c", "kill -9 $$"], dict(os.environ), setsigmask=old
        )
        assert wait_forwarding(pid) == 128 + signal.SIGKILL


def test_sigterm_sent_to_us_reaches_the_child() -> None:
    with blocked_signals() as old:
        pid = _spawn("handle", old)
        os.kill(os.getpid(), signal.SIGTERM)  # stays pending until wait_forwarding collects it
        assert wait_forwarding(pid) == 42


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    with blocked_signals() as old:
        pid = _spawn("ignore", old)
        os.kill(os.getpid(), signal.SIGTERM)
        assert wait_forwarding(pid, grace=0.2) == 128 + signal.SIGKILL


def test_custom_forwarding_and_escalation_are_used() -> None:
    seen: list[int] = []
    with blocked_signals() as old:
        pid = _spawn("ignore", old)
        os.kill(os.getpid(), signal.SIGHUP)

        def forward(sig: int) -> None:
            seen.append(sig)

        def escalate() -> None:
            seen.append(-1)
            os.kill(pid, signal.SIGKILL)

        assert wait_forwarding(pid, forward=forward, escalate=escalate, grace=0.1) == 137
    assert seen == [signal.SIGHUP, -1]
