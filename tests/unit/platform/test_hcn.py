"""The Windows HCN backend against an in-memory computenetwork.dll that enforces its contract."""

from __future__ import annotations

import ctypes
import json
import sys
import uuid
from collections.abc import Iterator

import pytest

from ctrnet import Settings
from ctrnet._errors import HcnError, PermissionDenied, SystemError_, ValidationError
from ctrnet.platform import namespace_backend
from ctrnet.platform._hcn_windows import (
    ERROR_NOT_FOUND,
    GUID,
    HcnNamespaceBackend,
    namespace_settings,
)
from tests.unit.platform.hcn_standin import (
    E_ACCESSDENIED,
    HCN_E_INVALID_JSON,
    HCN_E_REQUEST_UNSUPPORTED,
    StandInHcn,
)


@pytest.fixture
def dll() -> Iterator[StandInHcn]:
    standin = StandInHcn()
    yield standin
    assert standin.problems() == []


@pytest.fixture
def backend(dll: StandInHcn) -> HcnNamespaceBackend:
    return HcnNamespaceBackend(dll)


def test_create_returns_the_guid_of_a_new_host_namespace(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    path = backend.create("sandbox-1")
    assert path == str(uuid.UUID(path))  # canonical lowercase GUID, no braces
    assert list(dll.namespaces) == [uuid.UUID(path)]
    props = dll.namespaces[uuid.UUID(path)]
    assert props["Type"] == "Host"
    assert props["SchemaVersion"] == {"Major": 2, "Minor": 0}
    assert backend.exists(path)


def test_create_sends_schema_2_host_settings() -> None:
    assert json.loads(namespace_settings()) == {
        "Type": "Host",
        "SchemaVersion": {"Major": 2, "Minor": 0},
    }


def test_each_create_is_a_new_namespace(backend: HcnNamespaceBackend, dll: StandInHcn) -> None:
    paths = {backend.create("same-name") for _ in range(3)}
    assert len(paths) == 3 and len(dll.namespaces) == 3


def test_exists_accepts_uppercase_guids(backend: HcnNamespaceBackend) -> None:
    path = backend.create("x")
    assert backend.exists(path.upper())


def test_properties_are_read_case_insensitively(dll: StandInHcn) -> None:
    dll.id_key = "Id"
    backend = HcnNamespaceBackend(dll)
    path = backend.create("x")
    assert uuid.UUID(path) in dll.namespaces
    props = backend.properties(path)
    assert props is not None and props["Id"].lower() == path


def test_remove_deletes_and_is_idempotent(backend: HcnNamespaceBackend, dll: StandInHcn) -> None:
    path = backend.create("x")
    backend.remove(path)
    assert dll.namespaces == {}
    assert not backend.exists(path)
    backend.remove(path)  # not found: fine
    backend.remove(str(uuid.uuid4()))  # never existed: fine


def test_remove_of_a_namespace_still_in_use_is_reported(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    path = backend.create("x")
    dll.referenced.add(uuid.UUID(path))
    with pytest.raises(HcnError, match=r"HcnDeleteNamespace failed: .*0x803B0015") as info:
        backend.remove(path)
    assert info.value.hresult == HCN_E_REQUEST_UNSUPPORTED
    assert backend.exists(path)
    dll.referenced.clear()
    backend.remove(path)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/run/netns/x",
        "{7cb720c0-ac4c-4266-92e1-dc277b2a9b94}",
        "7cb720c0ac4c426692e1dc277b2a9b94",
    ],
)
def test_paths_that_are_not_guids_are_refused_without_calling_hcn(
    backend: HcnNamespaceBackend, dll: StandInHcn, bad: str
) -> None:
    for call in (backend.remove, backend.exists, backend.set_loopback_up):
        with pytest.raises(ValidationError, match="invalid HCN namespace ID"):
            call(bad)
    assert dll.calls == []


def test_set_loopback_up_is_a_no_op(backend: HcnNamespaceBackend, dll: StandInHcn) -> None:
    path = backend.create("x")
    before = list(dll.calls)
    backend.set_loopback_up(path)
    assert dll.calls == before


def test_create_failure_carries_hresult_and_record_and_leaves_nothing(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    dll.fail_next("HcnCreateNamespace", HCN_E_INVALID_JSON, "Invalid JSON document string.")
    with pytest.raises(HcnError) as info:
        backend.create("x")
    err = info.value
    assert err.hresult == HCN_E_INVALID_JSON
    assert str(err) == (
        "HcnCreateNamespace failed: Invalid JSON document string. (HRESULT 0x803B001B)"
    )
    assert err.to_dict()["hresult"] == HCN_E_INVALID_JSON
    assert dll.namespaces == {}


def test_error_record_with_success_hresult_is_a_failure_and_rolled_back(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    dll.fail_next("HcnCreateNamespace", 0, "The request is not supported.")
    with pytest.raises(HcnError, match="The request is not supported"):
        backend.create("x")
    assert dll.namespaces == {}  # it was created, then deleted again


def test_query_failure_after_create_removes_the_namespace(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    dll.fail_next("HcnQueryNamespaceProperties", 0x803B0001, "Network not found.")
    with pytest.raises(HcnError, match="HcnQueryNamespaceProperties failed"):
        backend.create("x")
    assert dll.namespaces == {}


def test_record_that_is_not_json_is_still_reported(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    dll.fail_next("HcnCreateNamespace", 0x803B000A, record="plain text failure")
    with pytest.raises(HcnError, match=r"plain text failure \(HRESULT 0x803B000A\)"):
        backend.create("x")


def test_failure_without_record_names_the_win32_code(
    backend: HcnNamespaceBackend, dll: StandInHcn
) -> None:
    dll.fail_next("HcnCreateNamespace", 0x80070057)  # E_INVALIDARG, no record
    with pytest.raises(HcnError, match=r"Win32 error 87 \(HRESULT 0x80070057\)"):
        backend.create("x")


def test_access_denied_is_permission_denied(backend: HcnNamespaceBackend, dll: StandInHcn) -> None:
    dll.fail_next("HcnCreateNamespace", E_ACCESSDENIED, "Access is denied.")
    with pytest.raises(PermissionDenied, match="HcnCreateNamespace"):
        backend.create("x")


def test_exists_reports_other_open_failures(backend: HcnNamespaceBackend, dll: StandInHcn) -> None:
    path = backend.create("x")
    dll.fail_next("HcnOpenNamespace", 0x803B0021, "HNS service unavailable.")
    with pytest.raises(HcnError, match="HNS service unavailable"):
        backend.exists(path)


def test_exists_is_false_for_unknown_namespace(backend: HcnNamespaceBackend) -> None:
    assert not backend.exists(str(uuid.uuid4()))


def test_standin_catches_unfreed_strings_and_unclosed_handles() -> None:
    """The contract checks can fail: a caller that skips free/close is caught."""
    dll = StandInHcn()
    handle, error = ctypes.c_void_p(), ctypes.c_void_p()
    guid = GUID.of(uuid.uuid4())
    dll.HcnCreateNamespace(
        ctypes.pointer(guid), namespace_settings(), ctypes.pointer(handle), ctypes.pointer(error)
    )
    props = ctypes.c_void_p()
    dll.HcnQueryNamespaceProperties(handle, "{}", ctypes.pointer(props), ctypes.pointer(error))
    problems = dll.problems()
    assert any("never closed" in p for p in problems)
    assert any("never freed" in p for p in problems)
    dll.CoTaskMemFree(props.value)
    dll.CoTaskMemFree(props.value)
    assert any("freed twice" in p for p in dll.problems())


def test_unknown_guid_gets_hcns_not_found_hresult() -> None:
    dll = StandInHcn()
    handle, error = ctypes.c_void_p(), ctypes.c_void_p()
    guid = GUID.of(uuid.uuid4())
    hresult = dll.HcnOpenNamespace(
        ctypes.pointer(guid), ctypes.pointer(handle), ctypes.pointer(error)
    )
    assert hresult & 0xFFFFFFFF == ERROR_NOT_FOUND
    assert json.loads(ctypes.wstring_at(error.value))["Error"] == "Element not found."
    dll.CoTaskMemFree(error.value)
    assert dll.problems() == []


def test_guid_struct_uses_windows_byte_order() -> None:
    value = uuid.UUID("7cb720c0-ac4c-4266-92e1-dc277b2a9b94")
    guid = GUID.of(value)
    assert (guid.Data1, guid.Data2, guid.Data3) == (0x7CB720C0, 0xAC4C, 0x4266)
    assert bytes(guid.Data4) == bytes.fromhex("92e1dc277b2a9b94")
    assert guid.to_uuid() == value


def test_windows_settings_select_the_hcn_backend_without_loading_the_dll() -> None:
    loaded: list[bool] = []

    backend = namespace_backend(Settings(platform="windows"))
    assert isinstance(backend, HcnNamespaceBackend)
    lazy = HcnNamespaceBackend(loader=lambda: loaded.append(True) or StandInHcn())  # type: ignore[func-returns-value]
    assert loaded == []
    lazy.remove(str(uuid.uuid4()))
    assert loaded == [True]


@pytest.mark.skipif(sys.platform == "win32", reason="checks the message seen off Windows")
def test_real_backend_off_windows_says_it_needs_windows() -> None:
    with pytest.raises(SystemError_, match="needs Windows"):
        HcnNamespaceBackend().create("x")
