"""OCI ``poststop`` of a container whose network namespace others joined.

``ctrnet teardown`` refuses such a target (its dependents would lose their network); poststop
cannot: the container is already gone. As with docker (a container whose namespace others joined
can still be stopped), poststop tears the target down, warns about each dependent, and leaves the
dependents' records to their own poststop — nothing stays forever.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from ctrnet._settings import Settings
from tests.support import host
from tests.support.reliability import cli, cli_env

pytestmark = pytest.mark.root


def _poststop(settings: Settings, container_id: str) -> subprocess.CompletedProcess[str]:
    """Run the hook exactly as runc does: ``python -m ctrnet oci-hook poststop``, state on stdin,
    settings only from the environment."""
    env = cli_env(
        settings,
        NETCONFPATH=settings.conf_dir,
        CNI_PATH=":".join(settings.cni_path),
        CNI_CACHEDIR=settings.cache_dir,
        CTRNET_DATA_ROOT=settings.data_root,
    )
    state = {"ociVersion": "1.0.2", "id": container_id, "status": "stopped", "annotations": {}}
    return subprocess.run(
        [sys.executable, "-m", "ctrnet", "oci-hook", "poststop"],
        input=json.dumps(state),
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def _ids(settings: Settings) -> list[str]:
    return cli(settings, "ps", "-q").stdout.split()


@pytest.fixture
def shared(
    no_leftovers: Callable[[], list[str]], settings: Settings, prefix: str
) -> Iterator[tuple[str, str]]:
    """A target sandbox (own namespace, no CNI network) and one sandbox sharing it."""
    target, dependent = f"{prefix}-tg", f"{prefix}-dp"
    assert cli(settings, "setup", target, "-n", "none").returncode == 0
    done = cli(settings, "setup", dependent, "-n", f"container:{target}")
    assert done.returncode == 0, done.stderr
    yield target, dependent
    cli(settings, "teardown", "--force", dependent, target)


def test_poststop_of_a_shared_target_tears_it_down(
    settings: Settings, shared: tuple[str, str]
) -> None:
    target, dependent = shared
    refused = cli(settings, "teardown", target)
    assert refused.returncode != 0 and dependent in refused.stderr  # the CLI rule is unchanged

    done = _poststop(settings, target)
    assert done.returncode == 0, done.stderr
    assert f"Warning: sandbox {dependent!r} shared the network namespace" in done.stderr
    assert _ids(settings) == [dependent]
    assert f"ctrnet-{target}" not in host.namespaces()
    assert not os.path.exists(os.path.join(settings.data_root, "sandboxes", target))

    assert _poststop(settings, dependent).returncode == 0  # the dependent's own poststop
    assert _ids(settings) == []


def test_force_teardown_does_not_wait_for_dependents(
    settings: Settings, shared: tuple[str, str]
) -> None:
    target, dependent = shared
    done = cli(settings, "teardown", "--force", target)
    assert done.returncode == 0, done.stderr
    assert dependent in done.stderr  # warned: it has no network now
    assert _ids(settings) == [dependent]
    assert f"ctrnet-{target}" not in host.namespaces()
