"""icc=false and the firewall plugin: the ingressPolicy probe and the refusal it drives."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ctrnet._errors import UnsupportedOption
from ctrnet._settings import Settings
from ctrnet.networks import NetworkCreateOptions, NetworkStore
from ctrnet.networks.firewall import probe_ingress_policy

#: a stand-in firewall plugin: refuses "isolated" like containernetworking-plugins < 1.7.1,
#: records every call's command and stdin
FAKE_FIREWALL = """#!/bin/sh
input=$(cat)
echo "$CNI_COMMAND $CNI_CONTAINERID netns=[$CNI_NETNS] $input" >> "{record}"
case "$input" in
  *'"isolated"'*) echo '{{"code": 999, "msg": "unknown ingress policy: \\"isolated\\""}}'; exit 1;;
  *'"crash"'*) echo 'panic: boom' >&2; exit 2;;
esac
exit 0
"""


@pytest.fixture
def fake_settings(settings: Settings, tmp_path: Path) -> tuple[Settings, Path]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "calls.log"
    plugin = bindir / "firewall"
    plugin.write_text(FAKE_FIREWALL.format(record=record))
    plugin.chmod(0o755)
    return settings.with_(cni_path=(str(bindir),)), record


def test_probe_reads_the_plugins_refusal_and_touches_no_namespace(
    fake_settings: tuple[Settings, Path],
) -> None:
    settings, record = fake_settings
    refused = probe_ingress_policy(settings, "isolated")
    accepted = probe_ingress_policy(settings, "same-bridge")
    assert refused.supported is False
    assert "unknown ingress policy" in refused.detail
    assert accepted.supported is True
    calls = record.read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["DEL", "DEL"]
    assert all("netns=[]" in c and "prevResult" not in c for c in calls)
    assert not os.path.exists(os.path.join(settings.cache_dir, "results"))


def test_probe_is_inconclusive_when_the_plugin_misbehaves_or_is_missing(
    fake_settings: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, _ = fake_settings
    assert probe_ingress_policy(settings, "crash").supported is None
    missing = settings.with_(cni_path=(str(tmp_path / "nothing"),))
    assert probe_ingress_policy(missing, "isolated").supported is None


def test_icc_false_is_refused_when_the_firewall_plugin_lacks_isolation(
    make_store: Callable[..., NetworkStore], settings: Settings
) -> None:
    store = make_store(firewall=False)
    for key in ("icc", "com.docker.network.bridge.enable_icc"):
        with pytest.raises(UnsupportedOption) as err:
            store.create(
                NetworkCreateOptions(name="iso", subnets=("10.200.9.0/24",), options={key: "false"})
            )
        message = str(err.value)
        assert 'ingressPolicy "isolated"' in message
        assert "1.7.1" in message and "drop icc=false" in message
    assert os.listdir(settings.conf_dir) == [".nerdctl.lock"]


@pytest.mark.parametrize("answer", [True, None])
def test_icc_false_is_written_when_supported_or_undetermined(
    make_store: Callable[..., NetworkStore], answer: bool | None
) -> None:
    store = make_store(firewall=answer)
    net = store.create(
        NetworkCreateOptions(name="iso", subnets=("10.200.9.0/24",), options={"icc": "false"})
    )
    assert net.conflist is not None
    assert net.conflist.plugins[2].raw == {"type": "firewall", "ingressPolicy": "isolated"}


def test_icc_true_does_not_probe(make_store: Callable[..., NetworkStore]) -> None:
    store = make_store(firewall=False)
    net = store.create(
        NetworkCreateOptions(name="open", subnets=("10.200.9.0/24",), options={"icc": "true"})
    )
    assert net.conflist is not None
    assert net.conflist.plugins[2].raw["ingressPolicy"] == "same-bridge"
