"""The README's library example runs as written (against private settings, as root)."""

from __future__ import annotations

import contextlib
import io
import ipaddress
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from ctrnet._settings import Settings
from ctrnet.networks import NetworkStore
from ctrnet.networks._host import delete_bridge, delete_isolation_rules
from tests.support import host

pytestmark = pytest.mark.root

README = Path(__file__).resolve().parents[2] / "README.md"


def library_example() -> str:
    """The first python block after the README's "As a library" heading."""
    text = README.read_text()
    section = text[text.index("## As a library") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python block under 'As a library'"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readme_library_example_runs_and_leaves_nothing(
    no_leftovers: Callable[[], list[str]],
    settings: Settings,
    prefix: str,
    subnet: ipaddress.IPv4Network,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = library_example()
    assert "from ctrnet import" in code and "Settings.from_env()" in code
    # the example's fixed names would collide on a shared machine: only they are renamed
    sid, port = f"{prefix}-web1", free_port()
    code = code.replace('"web1"', repr(sid)).replace('"8080:80"', repr(f"{port}:80"))
    env = {
        "NETCONFPATH": settings.conf_dir,
        "CNI_PATH": ":".join(settings.cni_path),
        "CNI_CACHEDIR": settings.cache_dir,
        "CTRNET_DATA_ROOT": settings.data_root,
        "CTRNET_DEFAULT_SUBNET": str(subnet),
        "CTRNET_DEFAULT_BRIDGE": settings.default_bridge,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), {"__name__": "readme"})
        netns, ips, ports = out.getvalue().split(" ", 2)
        assert netns.endswith(f"ctrnet-{sid}")
        found = re.findall(r"\d+\.\d+\.\d+\.\d+", ips)
        assert found and ipaddress.ip_address(found[0]) in subnet, ips
        assert f"{port}" in ports and "80" in ports
        assert [n for n in host.namespaces() if n.startswith(f"ctrnet-{prefix}")] == []
        assert not Path(settings.data_root, "sandboxes", sid).exists()
    finally:
        store = NetworkStore(Settings.from_env())
        with contextlib.suppress(Exception):
            store.remove("bridge", allow_default=True)
        delete_isolation_rules(settings.default_bridge)
        delete_bridge(settings.default_bridge)
