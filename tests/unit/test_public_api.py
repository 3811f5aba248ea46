"""The one public namespace: every exported name resolves, and the error tree is complete."""

from __future__ import annotations

import subprocess
import sys

import ctrnet
from ctrnet import _errors


def test_every_exported_name_resolves() -> None:
    for name in ctrnet.__all__:
        assert getattr(ctrnet, name) is not None, name


def test_every_error_class_is_exported() -> None:
    assert set(_errors.__all__) <= set(ctrnet.__all__)
    for name in _errors.__all__:
        cls = getattr(ctrnet, name)
        assert issubclass(cls, ctrnet.CtrnetError)


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        ctrnet.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_lazy() -> None:
    code = "import sys, ctrnet; print(sorted(m for m in sys.modules if m.startswith('ctrnet')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['ctrnet', 'ctrnet._version']"


def test_all_matches_the_lazy_table() -> None:
    assert sorted(ctrnet.__all__) == sorted(["__version__", *ctrnet._LAZY])
