"""The HCN backend against the real computenetwork.dll (Windows with the Containers feature)."""

from __future__ import annotations

import sys

import pytest

from ctrnet._errors import PermissionDenied

pytestmark = pytest.mark.skipif(
    sys.platform != "win32", reason="real HCN needs Windows with computenetwork.dll (HNS)"
)


def test_create_query_and_delete_a_real_namespace() -> None:
    from ctrnet.platform._hcn_windows import HcnNamespaceBackend

    backend = HcnNamespaceBackend()
    try:
        path = backend.create("ctrnet-ci")
    except PermissionDenied:
        pytest.fail("run the Windows job elevated: HNS needs an administrator")
    try:
        assert backend.exists(path)
        props = backend.properties(path)
        assert props is not None
        assert str(next(v for k, v in props.items() if k.lower() == "id")).lower() == path
        backend.set_loopback_up(path)
    finally:
        backend.remove(path)
    assert not backend.exists(path)
    backend.remove(path)  # idempotent on the real service too
