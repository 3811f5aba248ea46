"""``ctrnet run``: set a sandbox up, run a command or container in it, tear it down.

Without ``--rootfs``/``--bundle`` the command runs as a child in the sandbox's namespaces; with
them, runc runs an OCI container joined to the sandbox. With ``--rm`` (the default) the sandbox
is torn down however the workload ends, also when ctrnet itself gets SIGTERM, SIGHUP or SIGINT.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click

from ctrnet.cli._app import set_exit_code, state
from ctrnet.cli._netflags import network_flags

_STOP = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class _Stopped(BaseException):
    """ctrnet was told to stop before the workload ran (unwinds through setup's rollback)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


@contextlib.contextmanager
def _stop_raises() -> Iterator[None]:
    """While setting up, a stop signal raises so that the sandbox is rolled back."""
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in _STOP}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _stop_deferred() -> Iterator[None]:
    """While tearing down, stop signals wait (they are delivered when the teardown is done)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@click.command(context_settings={"allow_interspersed_args": False})
@network_flags
@click.option("--id", "sandbox_id", default=None, help="Sandbox (and container) ID [random].")
@click.option("--name", default=None, help="Sandbox name, resolvable by peers on its networks.")
@click.option(
    "--rm/--no-rm",
    default=True,
    show_default=True,
    help="Tear the sandbox down when the command exits (--no-rm: keep it; `ctrnet teardown ID`).",
)
@click.option(
    "--rootfs",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Run COMMAND in an OCI container with this root filesystem (runc).",
)
@click.option(
    "--bundle",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Run this OCI bundle with runc (COMMAND, if given, replaces its process args).",
)
@click.option(
    "-e", "--env", multiple=True, metavar="KEY=VALUE", help="Environment variable (repeatable)."
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds the workload has to exit after a forwarded SIGTERM before it is killed.",
)
@click.option("--runc", "runc_binary", default="runc", show_default=True, help="runc binary.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def run(
    network_options: Any,
    sandbox_id: str | None,
    name: str | None,
    rm: bool,
    rootfs: str | None,
    bundle: str | None,
    env: tuple[str, ...],
    stop_timeout: float,
    runc_binary: str,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND in a new sandbox: ctrnet run [FLAGS] -- COMMAND [ARG...]

    Exits with COMMAND's exit code (128+N if a signal N ended it).
    """
    from ctrnet._errors import ValidationError

    if rootfs and bundle:
        raise ValidationError("give --rootfs or --bundle, not both", option="--rootfs")
    if not command and not bundle:
        raise ValidationError(
            "no command given; use: ctrnet run [FLAGS] -- COMMAND [ARG...]", option="command"
        )
    for item in env:
        if "=" not in item or item.startswith("="):
            raise ValidationError(
                f"invalid --env {item!r}: use KEY=VALUE", option="--env", value=item
            )
    from ctrnet.manager import NetworkManager
    from ctrnet.runtime.runc import Runc, validate_container_id

    settings = state().settings
    sid = sandbox_id or secrets.token_hex(32)
    oci = rootfs is not None or bundle is not None
    runc = Runc(runc_binary) if oci else None
    if oci:
        validate_container_id(sid)
    manager = NetworkManager(settings)
    try:
        with _stop_raises():
            # a failed or interrupted setup rolls itself back; only a ready sandbox is ours. With
            # --rm the record names this process, so gc reclaims the sandbox if we are killed
            sandbox = manager.setup(
                sid,
                network_options,
                name=name,
                workload_pid=os.getpid() if rm else None,
                workload_kind="ctrnet-run",
            )
            try:
                if not rm:
                    sys.stderr.write(f"{sid}\n")
                if runc is None:
                    from ctrnet.runtime.workload import run_in_sandbox

                    extra = dict(item.split("=", 1) for item in env)
                    code = run_in_sandbox(
                        sandbox,
                        command,
                        env={**os.environ, **extra} if extra else None,
                        grace=stop_timeout,
                    )
                else:
                    from ctrnet.runtime.workload import (
                        container_config,
                        run_container,
                        staging_dir,
                    )

                    config = container_config(
                        manager.oci_spec(sid), command, rootfs=rootfs, bundle=bundle, env=env
                    )
                    code = run_container(
                        runc, config, sid, staging_dir(settings, sid), grace=stop_timeout
                    )
            finally:
                if rm:
                    with _stop_deferred():
                        manager.cleanup(sid)
    except _Stopped as stop:
        code = 128 + stop.signum
    set_exit_code(code)
