"""Namespace names: whatever the Linux backend accepts stays a single file inside its directory."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrnet._errors import ValidationError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Linux network namespace names")


@given(st.text(min_size=0, max_size=300))
def test_accepted_names_stay_directly_inside_the_directory(name: str) -> None:
    from ctrnet.platform._netns_linux import NetnsBackend

    backend = NetnsBackend("/run/netns")
    try:
        path = backend.path_of(name)
    except ValidationError as exc:
        assert exc.option == "name" and exc.value == name
        return
    assert os.path.dirname(os.path.normpath(path)) == "/run/netns"
    assert os.path.basename(path) == name
    assert not any(ch.isspace() or ch == "\0" for ch in name)


@pytest.mark.parametrize("name", ["ct1234-ns0", "cni-0f3e", "a.b", "x_y-z", "é"])
def test_ordinary_names_are_accepted(name: str) -> None:
    from ctrnet.platform._netns_linux import NetnsBackend

    assert NetnsBackend("/run/netns").path_of(name) == f"/run/netns/{name}"


def test_refusal_message_names_the_input_and_the_rule() -> None:
    from ctrnet.platform._netns_linux import validate_name

    with pytest.raises(ValidationError) as info:
        validate_name("a/b")
    assert str(info.value) == (
        "invalid network namespace name 'a/b': use 1-255 bytes without '/', '..', NUL or whitespace"
    )
    assert info.value.exit_code == 2
