"""Run a workload in a ready sandbox: a plain process, or an OCI container under runc."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctrnet.runtime.bundle import default_config, load_config, stage_bundle, with_process_args
from ctrnet.runtime.process import ProcessSpec, run_process

if TYPE_CHECKING:
    from ctrnet._settings import Settings
    from ctrnet.manager import Sandbox
    from ctrnet.runtime.runc import Runc

__all__ = ["container_config", "process_spec", "run_container", "run_in_sandbox", "staging_dir"]

#: the environment of a container built from a bare rootfs (what docker gives)
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)


def process_spec(
    sandbox: Sandbox, argv: Sequence[str], *, env: Mapping[str, str] | None = None
) -> ProcessSpec:
    """The process runner's view of ``sandbox``: namespace, hostname, the three files."""
    files = {
        target: source
        for target, source in (
            ("/etc/hosts", sandbox.hosts_path),
            ("/etc/resolv.conf", sandbox.resolv_conf_path),
            ("/etc/hostname", sandbox.hostname_path),
        )
        if source
    }
    return ProcessSpec(
        argv=tuple(argv),
        netns=sandbox.netns or None,  # "" = the host's namespace (host mode)
        hostname=sandbox.hostname if sandbox.hostname_path else None,
        files=files,
        env=env,
    )


def run_in_sandbox(
    sandbox: Sandbox,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    grace: float = 10.0,
) -> int:
    """Run ``argv`` as a child inside ``sandbox`` and return its exit code."""
    return run_process(process_spec(sandbox, argv, env=env), grace=grace)


def container_config(
    fragment: Mapping[str, Any],
    argv: Sequence[str],
    *,
    rootfs: str | None = None,
    bundle: str | None = None,
    env: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``config.json`` to run: generated for ``rootfs`` or the bundle's own, ``argv`` (if
    any) as the process, ``env`` added, and the sandbox's OCI ``fragment`` merged in."""
    from ctrnet.manager.ocispec import merge_fragment

    if rootfs is not None:
        config = default_config(argv, rootfs=os.path.abspath(rootfs), env=[*DEFAULT_ENV, *env])
    else:
        assert bundle is not None
        config = with_process_args(load_config(bundle), argv)
        if env:
            process = config.setdefault("process", {})
            process["env"] = [*process.get("env", []), *env]
    return merge_fragment(config, fragment)


def staging_dir(settings: Settings, container_id: str) -> str:
    """Where the private bundle of ``container_id`` is written (removed after the run)."""
    return str(Path(settings.data_root, "bundles", container_id))


def run_container(
    runc: Runc, config: Mapping[str, Any], container_id: str, directory: str, *, grace: float = 10.0
) -> int:
    """Stage ``config`` in ``directory``, ``runc run`` it, and always delete the container and
    the staged bundle afterwards. Returns the container's exit code."""
    try:
        stage_bundle(directory, config)
        return runc.run(directory, container_id, grace=grace)
    finally:
        try:
            runc.delete(container_id)
        finally:
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(directory)
