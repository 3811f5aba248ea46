"""Hostile input: every failure is a CtrnetError with a message, never another exception, and
names that could escape a directory or a shell are refused before anything is written or run.

Example counts come from a hypothesis profile chosen by ``CTRNET_HYPOTHESIS_PROFILE``: ``ci``
(the default, a modest share) or ``full`` (the run recorded in docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ctrnet._errors import CtrnetError, ValidationError
from ctrnet._settings import Settings
from ctrnet.cni import CNI, RuntimeConf, conflist_from_bytes
from ctrnet.cni.args import check_container_id, check_ifname, parse_cni_args, with_ignore_unknown
from ctrnet.cni.spec import SUPPORTED_VERSIONS, convert, parse_result
from ctrnet.manager import NetworkManager, NetworkOptions, parse_extra_host, parse_port
from ctrnet.manager.records import validate_sandbox_id, validate_sandbox_name
from ctrnet.networks import NetworkCreateOptions, NetworkStore

hsettings.register_profile(
    "ci", max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hsettings.register_profile(
    "full", max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = os.environ.get("CTRNET_HYPOTHESIS_PROFILE", "ci")
run = hsettings.get_profile(PROFILE)

#: what must never reach a file name, a namespace name or a shell
DANGEROUS = ["/", "..", "\0", "\n", "\r", " ", ";", "&", "|", "$", "`", "'", '"', "*", "\\", "<"]

texts = st.text(max_size=40)
dangerous_names = st.builds(
    lambda a, bad, b: a + bad + b,
    st.text(alphabet="abcXYZ019.-_", max_size=10),
    st.sampled_from(DANGEROUS),
    st.text(alphabet="abcXYZ019.-_/", max_size=10),
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
KEYS = [
    "cniVersion", "cniVersions", "name", "plugins", "type", "ipam", "dns", "ips", "routes",
    "interfaces", "address", "gateway", "interface", "mac", "sandbox", "mtu", "dst", "gw",
    "nameservers", "search", "domain", "options", "disableCheck", "disableGC", "capabilities",
    "ip4", "ip6", "ip", "code", "msg", "details", "version",
]  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=25,
)


def _only_ctrnet_errors(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except CtrnetError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None


# --- config loading ------------------------------------------------------------------------------


@run
@given(data=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_config_loading_fails_only_with_ctrnet_errors(data: bytes) -> None:
    _only_ctrnet_errors(conflist_from_bytes, data, "/x/net.conflist")


@run
@given(
    plugins=st.lists(
        st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5).map(
            lambda d: {"type": "bridge", **d}
        ),
        max_size=3,
    ),
    top=st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4),
)
def test_conflist_shaped_garbage_fails_only_with_ctrnet_errors(
    plugins: list[dict[str, Any]], top: dict[str, Any]
) -> None:
    doc = {"cniVersion": "1.0.0", "name": "n1", "plugins": plugins, **top}
    _only_ctrnet_errors(conflist_from_bytes, json.dumps(doc).encode())


# --- results -------------------------------------------------------------------------------------


@run
@given(
    value=json_values,
    version=st.sampled_from([*SUPPORTED_VERSIONS, "", "9.9.9", "1.0"]),
    target=st.sampled_from(SUPPORTED_VERSIONS),
)
def test_result_parsing_and_conversion_fail_only_with_ctrnet_errors(
    value: Any, version: str, target: str
) -> None:
    if isinstance(value, dict) and version:
        value = {"cniVersion": version, **value}
    result = _only_ctrnet_errors(parse_result, value, version or None)
    if result is not None:
        _only_ctrnet_errors(convert, result, target)


# --- flags ---------------------------------------------------------------------------------------


@run
@given(spec=texts | st.text(alphabet="0123456789:-/[].tcpudsf", max_size=30))
def test_port_specs_fail_only_with_validation_errors(spec: str) -> None:
    try:
        port = parse_port(spec)
    except ValidationError as exc:
        shown = (spec, repr(spec), spec.strip(), repr(spec.strip()), "empty")
        assert any(s in str(exc) for s in shown), str(exc)  # the message names the bad value
        return
    assert 0 < port.container_start <= port.container_end <= 65535


@run
@given(value=texts | st.text(alphabet="abc.:-0123456789[]f", max_size=30))
def test_extra_hosts_fail_only_with_validation_errors(value: str) -> None:
    try:
        host = parse_extra_host(value, host_gateway_ip="10.0.0.1")
    except ValidationError:
        return
    assert "\n" not in str(host) and "\0" not in str(host)


@run
@given(
    text=texts | st.text(alphabet="a=;IP1.\n\0", max_size=30),
    pairs=st.lists(st.tuples(texts, texts), max_size=3),
    cid=texts,
    ifname=texts,
)
def test_cni_args_ids_and_ifnames_fail_only_with_validation_errors(
    text: str, pairs: list[tuple[str, str]], cid: str, ifname: str
) -> None:
    for fn, arg in ((parse_cni_args, text), (with_ignore_unknown, pairs)):
        with contextlib.suppress(ValidationError):
            fn(arg)  # type: ignore[operator]
    for check, arg in ((check_container_id, cid), (check_ifname, ifname)):
        try:
            check(arg)
        except ValidationError:
            continue
        assert "/" not in arg and "\0" not in arg and arg not in (".", "..")


@run
@given(
    publish=st.lists(texts, max_size=2),
    add_host=st.lists(texts, max_size=2),
    ip=st.none() | texts,
    mac=st.none() | texts,
    dns=st.lists(texts, max_size=2),
    networks=st.lists(texts, max_size=2),
)
def test_network_options_fail_only_with_validation_errors(
    publish: list[str],
    add_host: list[str],
    ip: str | None,
    mac: str | None,
    dns: list[str],
    networks: list[str],
) -> None:
    try:
        NetworkOptions.parse(
            networks=networks, publish=publish, add_host=add_host, ip=ip, mac_address=mac, dns=dns
        )
    except ValidationError as exc:
        assert exc.option, "a validation error names the option"


# --- names and IDs: refused before anything is written or run ------------------------------------


@run
@given(name=texts | dangerous_names)
def test_sandbox_ids_and_names_are_safe_or_refused(name: str) -> None:
    for validate in (validate_sandbox_id, validate_sandbox_name):
        try:
            validate(name)
        except ValidationError:
            continue
        assert not any(bad in name for bad in DANGEROUS), name


def _recording_plugin(directory: Path) -> Path:
    """A plugin that appends its command to ``calls.log``: proof whether anything ran."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "calls.log"
    script = directory / "rec"
    script.write_text(f'#!/bin/sh\necho "$CNI_COMMAND" >> {log}\necho {{}}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.fixture(scope="module")
def sandbox_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("hostile")
    log = _recording_plugin(root / "bin")
    conf = root / "net.d"
    conf.mkdir()
    doc = {"cniVersion": "1.0.0", "name": "rec1", "plugins": [{"type": "rec"}]}
    (conf / "rec1.conflist").write_text(json.dumps(doc))
    settings = Settings(
        conf_dir=str(conf),
        cni_path=(str(root / "bin"),),
        cache_dir=str(root / "cache"),
        data_root=str(root / "data"),
        netns_dir=str(root / "netns"),
    )
    return settings, log


@run
@given(sandbox_id=dangerous_names, name=st.none() | dangerous_names)
def test_setup_refuses_hostile_ids_before_writing_or_running_anything(
    sandbox_root: tuple[Settings, Path], sandbox_id: str, name: str | None
) -> None:
    settings, log = sandbox_root
    before = _tree(Path(settings.data_root).parent)
    with pytest.raises(ValidationError):
        NetworkManager(settings).setup(sandbox_id, NetworkOptions(networks=("rec1",)), name=name)
    with pytest.raises(ValidationError):
        NetworkManager(settings).cleanup(sandbox_id)
    assert _tree(Path(settings.data_root).parent) == before
    assert not log.exists()


@run
@given(name=dangerous_names)
def test_network_create_refuses_hostile_names_before_writing(
    sandbox_root: tuple[Settings, Path], name: str
) -> None:
    settings, log = sandbox_root
    before = _tree(Path(settings.conf_dir))
    with pytest.raises(ValidationError):
        NetworkStore(settings).create(NetworkCreateOptions(name=name, subnets=("10.200.0.0/24",)))
    assert _tree(Path(settings.conf_dir)) == before
    assert not log.exists()


@run
@given(
    plugin_type=dangerous_names.filter(lambda t: any(c in t for c in "/\\\0") or t in (".", ".."))
    | st.sampled_from(
        ["../rec", "/bin/sh", "..", ".", "./rec", "bin/../rec", "/usr/lib/cni/bridge"]
    )
)
def test_plugin_types_outside_the_plugin_path_are_never_run(
    sandbox_root: tuple[Settings, Path], plugin_type: str
) -> None:
    settings, log = sandbox_root
    doc = {
        "cniVersion": "1.0.0",
        "name": "rec2",
        "plugins": [{"type": "rec"}, {"type": plugin_type}],
    }
    conf = _only_ctrnet_errors(conflist_from_bytes, json.dumps(doc).encode())
    if conf is not None:
        runtime = CNI.from_settings(settings)
        rt = RuntimeConf(container_id="c1", netns="/proc/self/ns/net")
        for op in (runtime.add, runtime.delete, runtime.check):
            with pytest.raises(CtrnetError):
                op(conf, rt)
    assert not log.exists()
    assert not Path(settings.cache_dir).exists()
