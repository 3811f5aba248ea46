"""Wait for a child while forwarding the signals sent to us; return a shell-style exit code.

Signals are blocked and collected with ``sigtimedwait`` rather than handled, so none is lost
between the fork and the wait. A signal the terminal generated (Ctrl-C: ``si_code`` is
``SI_KERNEL``) already reached the whole foreground process group and is not sent twice; one sent
with ``kill`` to ctrnet is forwarded. If the child outlives a forwarded SIGTERM/SIGINT/SIGHUP by
``grace`` seconds, ``escalate`` is called (by default SIGKILL), as ``docker stop`` does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator

__all__ = ["FORWARDED", "SignalMask", "blocked_signals", "exit_code_of", "wait_forwarding"]

#: a thread's signal mask as ``pthread_sigmask`` returns it
SignalMask = set[int | signal.Signals]

#: the signals passed on to the workload
FORWARDED: frozenset[signal.Signals] = frozenset(
    {
        signal.SIGINT,
        signal.SIGTERM,
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGUSR2,
    }
)
_STOPPING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
_SI_KERNEL = 0x80  # si_code of signals the kernel (e.g. the tty driver) generated
_POLL = 0.5


@contextlib.contextmanager
def blocked_signals(
    signals: Iterable[signal.Signals] = FORWARDED | {signal.SIGCHLD},
) -> Iterator[SignalMask]:
    """Block ``signals`` in this thread for the block; yields the previous mask.

    A fork inside the block inherits the blocked mask; restore the yielded mask in the child
    before ``exec``.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, set(signals))
    try:
        yield old
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def exit_code_of(status: int) -> int:
    """A ``waitpid`` status as a shell would report it (128 + N for death by signal N)."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def wait_forwarding(
    pid: int,
    *,
    forward: Callable[[int], None] | None = None,
    escalate: Callable[[], None] | None = None,
    grace: float = 10.0,
) -> int:
    """Wait for child ``pid``, forwarding :data:`FORWARDED` signals; return its exit code.

    Call inside :func:`blocked_signals`. ``forward(sig)`` defaults to ``os.kill(pid, sig)``.
    """

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    forward = forward or send
    escalate = escalate or (lambda: send(signal.SIGKILL))
    waited = FORWARDED | {signal.SIGCHLD}
    deadline: float | None = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return exit_code_of(status)
        timeout = _POLL
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                escalate()
                deadline = None
            else:
                timeout = min(timeout, left)
        info = signal.sigtimedwait(waited, timeout)
        if info is None or info.si_signo == signal.SIGCHLD:
            continue
        if info.si_code == _SI_KERNEL:
            continue  # the terminal sent it to the child as well
        forward(info.si_signo)
        if info.si_signo in _STOPPING and deadline is None:
            deadline = time.monotonic() + grace
