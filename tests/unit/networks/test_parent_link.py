"""``network create -d macvlan|ipvlan -o parent=LINK`` checks that the parent exists on the host.

Without the check the file is written and every attachment fails later in the plugin
(``failed to lookup master``); the refusal names the link and writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from ctrnet._errors import ValidationError
from ctrnet._settings import Settings
from ctrnet.networks import NetworkCreateOptions, NetworkStore
from ctrnet.networks._host import link_exists
from tests.support.reliability import cli


@pytest.mark.parametrize("driver", ["macvlan", "ipvlan"])
def test_a_missing_parent_is_refused_and_nothing_is_written(
    make_store: Callable[..., NetworkStore], driver: str
) -> None:
    store = make_store()
    opts = NetworkCreateOptions(name="lan", driver=driver, options={"parent": "ens404"})
    with pytest.raises(ValidationError) as caught:
        store.create(opts)
    message = str(caught.value)
    assert "parent link 'ens404'" in message and driver in message
    assert "-o parent=NAME" in message  # what to do
    assert caught.value.exit_code == 2
    assert not any("lan" in f for f in os.listdir(store.settings.conf_dir))
    assert [n.name for n in store.list()] == []


@pytest.mark.parametrize("driver", ["macvlan", "ipvlan"])
def test_an_existing_parent_is_written(
    make_store: Callable[..., NetworkStore], driver: str
) -> None:
    store = make_store()
    net = store.create(NetworkCreateOptions(name="lan", driver=driver, options={"parent": "ens9"}))
    assert net.conflist is not None and net.conflist.plugins[0].raw["master"] == "ens9"


def test_no_parent_is_not_looked_up(settings: Settings) -> None:
    """Without ``parent`` the plugin uses the default route's link; nothing to check."""
    asked: list[str] = []

    def exists(name: str) -> bool:
        asked.append(name)
        return False

    store = NetworkStore(settings, host_subnets=list, link_exists=exists)
    net = store.create(NetworkCreateOptions(name="lan", driver="macvlan"))
    assert asked == [] and net.driver == "macvlan"


def test_the_host_lookup_reads_sys_class_net(prefix: str) -> None:
    assert link_exists("lo")
    assert not link_exists(f"{prefix}gone")


def test_cli_refuses_a_missing_parent_with_exit_2(settings: Settings, prefix: str) -> None:
    parent = f"{prefix}gone"
    done = cli(
        settings, "network", "create", f"{prefix}-mv", "-d", "macvlan", "-o", f"parent={parent}"
    )
    assert done.returncode == 2, done.stderr
    assert f"Error: parent link {parent!r}" in done.stderr
    assert "-o parent=NAME" in done.stderr
    assert not any(f.endswith(".conflist") for f in os.listdir(settings.conf_dir))
