"""Windows HCN namespaces through ``computenetwork.dll`` with ctypes; importable on any OS.

The DLL is loaded on first use. Everything goes through a :class:`HcnDll` seam: the real DLL on
Windows, or a stand-in that enforces the same call contract in tests. Call rules (HCN docs,
hcsshim): every out string (properties, error records) is freed with ``CoTaskMemFree``; every
opened handle is closed; a non-empty error record is a failure even when the HRESULT is success.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from ctrnet._errors import HcnError, PermissionDenied, SystemError_, ValidationError

__all__ = [
    "ERROR_NOT_FOUND",
    "E_ACCESSDENIED",
    "GUID",
    "HcnDll",
    "HcnNamespaceBackend",
    "load_system_dll",
    "namespace_settings",
    "parse_guid",
]

S_OK = 0
#: HRESULT_FROM_WIN32(ERROR_NOT_FOUND): what HCN answers for an unknown namespace GUID
ERROR_NOT_FOUND = 0x80070490
E_ACCESSDENIED = 0x80070005
_FACILITY_WIN32 = 0x00070000

SCHEMA_VERSION = {"Major": 2, "Minor": 0}
#: the query hcsshim sends for "standard properties"
DEFAULT_QUERY = json.dumps({"SchemaVersion": SCHEMA_VERSION})
_GUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


class GUID(ctypes.Structure):
    """The Win32 GUID struct; its bytes are ``uuid.UUID.bytes_le``."""

    _fields_ = [
        ("Data1", ctypes.c_uint32),
        ("Data2", ctypes.c_uint16),
        ("Data3", ctypes.c_uint16),
        ("Data4", ctypes.c_ubyte * 8),
    ]

    @classmethod
    def of(cls, value: uuid.UUID) -> GUID:
        return cls.from_buffer_copy(value.bytes_le)

    def to_uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes_le=bytes(self))


if TYPE_CHECKING:
    PVOID = ctypes._Pointer[ctypes.c_void_p]
    PGUID = ctypes._Pointer[GUID]


class HcnDll(Protocol):
    """The computenetwork.dll (+ ``CoTaskMemFree``) entry points the backend calls.

    Strings go in as ``str`` (PCWSTR); out parameters are ``ctypes.pointer(c_void_p())``; the
    result is the HRESULT as a C ``long``.
    """

    def HcnCreateNamespace(
        self, id: PGUID, settings: str, namespace: PVOID, error_record: PVOID
    ) -> int: ...

    def HcnOpenNamespace(self, id: PGUID, namespace: PVOID, error_record: PVOID) -> int: ...

    def HcnQueryNamespaceProperties(
        self, namespace: ctypes.c_void_p, query: str, properties: PVOID, error_record: PVOID
    ) -> int: ...

    def HcnDeleteNamespace(self, id: PGUID, error_record: PVOID) -> int: ...

    def HcnCloseNamespace(self, namespace: ctypes.c_void_p) -> int: ...

    def CoTaskMemFree(self, pointer: int | None) -> None: ...


def parse_guid(text: str) -> uuid.UUID:
    """A namespace "path" on Windows: exactly ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``."""
    if not isinstance(text, str) or not _GUID_TEXT.match(text):
        raise ValidationError(
            f"invalid HCN namespace ID {text!r}: expected a GUID like "
            "'7cb720c0-ac4c-4266-92e1-dc277b2a9b94' (no braces)",
            option="namespace",
            value=text,
        )
    return uuid.UUID(text)


def namespace_settings(ns_type: str = "Host") -> str:
    """The HostComputeNamespace JSON for a new namespace (``Host``: a process-isolated compartment)."""
    return json.dumps({"Type": ns_type, "SchemaVersion": SCHEMA_VERSION})


def _lookup(mapping: Mapping[str, Any], key: str) -> Any:
    """HCN spells keys both ways ("ID" / "Id"); read them case-insensitively, like Go does."""
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for name, value in mapping.items():
        if name.lower() == lowered:
            return value
    return None


def _win32_code(hresult: int) -> int:
    return hresult & 0xFFFF if (hresult & 0x1FFF0000) == _FACILITY_WIN32 else hresult


def _load_library(path: str) -> Any:
    if sys.platform == "win32":
        return ctypes.WinDLL(path)
    raise SystemError_(
        "the HCN namespace backend needs Windows (computenetwork.dll); "
        "use --platform linux here, or run on a Windows host"
    )


class _WinDll:
    """The real DLL, loaded from System32 by absolute path (no search-path hijacking)."""

    def __init__(self) -> None:
        system32 = os.path.join(os.environ.get("SYSTEMROOT", "C:\\Windows"), "System32")
        try:
            hcn = _load_library(os.path.join(system32, "computenetwork.dll"))
            ole32 = _load_library(os.path.join(system32, "ole32.dll"))
        except OSError as exc:
            raise SystemError_(
                f"cannot load computenetwork.dll from {system32}: {exc}; enable the Windows "
                "'Containers' feature (HNS)"
            ) from None
        pvoid = ctypes.POINTER(ctypes.c_void_p)
        pguid = ctypes.POINTER(GUID)
        signatures: dict[str, list[Any]] = {
            "HcnCreateNamespace": [pguid, ctypes.c_wchar_p, pvoid, pvoid],
            "HcnOpenNamespace": [pguid, pvoid, pvoid],
            "HcnQueryNamespaceProperties": [ctypes.c_void_p, ctypes.c_wchar_p, pvoid, pvoid],
            "HcnDeleteNamespace": [pguid, pvoid],
            "HcnCloseNamespace": [ctypes.c_void_p],
        }
        for name, argtypes in signatures.items():
            fn = getattr(hcn, name)
            fn.argtypes = argtypes
            fn.restype = ctypes.c_long  # not HRESULT: that would raise before we read the record
            setattr(self, name, fn)
        free = ole32.CoTaskMemFree
        free.argtypes = [ctypes.c_void_p]
        free.restype = None
        self.CoTaskMemFree = free


def load_system_dll() -> HcnDll:
    """computenetwork.dll and ole32's CoTaskMemFree, typed as the seam."""
    return cast(HcnDll, _WinDll())


class HcnNamespaceBackend:
    """HCN namespaces; the "path" of a namespace is its GUID (lowercase, no braces)."""

    def __init__(
        self, dll: HcnDll | None = None, *, loader: Callable[[], HcnDll] = load_system_dll
    ) -> None:
        self._dll = dll
        self._loader = loader

    @property
    def dll(self) -> HcnDll:
        if self._dll is None:
            self._dll = self._loader()
        return self._dll

    # --- NamespaceBackend ------------------------------------------------------------------------

    def allocate(self, name: str) -> str:
        """A new GUID for a namespace (nothing is created): the caller records it first."""
        return str(uuid.uuid4())

    def create(self, name: str, path: str | None = None) -> str:
        """Create a ``Host`` namespace with GUID ``path`` (from :meth:`allocate`, else a new one)
        and return its GUID.

        HCN namespaces have no names: ``name`` is not sent (it keeps the backend protocol shared
        with Linux). The GUID is chosen before the call, so a failure after the create (or a crash,
        when the caller recorded the GUID) can delete it again.
        """
        wanted = parse_guid(path) if path else uuid.uuid4()
        guid = GUID.of(wanted)
        try:
            with self._open(
                "HcnCreateNamespace",
                lambda h, err: self.dll.HcnCreateNamespace(
                    ctypes.pointer(guid), namespace_settings(), h, err
                ),
            ) as handle:
                props = self._query(handle)
        except BaseException:
            # the create may have gone through even though the call reported a failure
            with contextlib.suppress(SystemError_):
                self._delete(wanted)
            raise
        found = _lookup(props, "ID")
        try:
            return str(parse_guid(found)) if isinstance(found, str) else str(wanted)
        except ValidationError:
            return str(wanted)

    def remove(self, path: str) -> None:
        """Delete the namespace; one that does not exist (any more) is fine."""
        self._delete(parse_guid(path))

    def exists(self, path: str) -> bool:
        return self.properties(path) is not None

    def set_loopback_up(self, path: str) -> None:
        """Nothing to do: an HCN namespace has no loopback device to bring up."""
        parse_guid(path)

    # --- beyond the protocol ---------------------------------------------------------------------

    def properties(self, path: str) -> dict[str, Any] | None:
        """The namespace's HostComputeNamespace JSON, or None if it does not exist."""
        guid = GUID.of(parse_guid(path))
        try:
            with self._open(
                "HcnOpenNamespace",
                lambda h, err: self.dll.HcnOpenNamespace(ctypes.pointer(guid), h, err),
            ) as handle:
                return self._query(handle)
        except HcnError as exc:
            if exc.hresult == ERROR_NOT_FOUND:
                return None
            raise

    # --- the call contract -----------------------------------------------------------------------

    def _take(self, out: ctypes.c_void_p) -> str:
        """Read an HCN-allocated wide string and free it (always, even when reading fails)."""
        pointer = out.value
        if not pointer:
            return ""
        try:
            return ctypes.wstring_at(pointer)
        finally:
            out.value = None
            self.dll.CoTaskMemFree(pointer)

    def _check(self, operation: str, hresult: int, error_record: ctypes.c_void_p) -> None:
        record = self._take(error_record)
        hresult &= 0xFFFFFFFF
        if not hresult & 0x80000000 and not record:
            return
        if hresult == E_ACCESSDENIED:
            raise PermissionDenied(f"{operation} (HCN)")
        message = record or f"Win32 error {_win32_code(hresult)}"
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            parsed = json.loads(record)
            message = str(_lookup(parsed, "Error") or record).strip()
            code = _lookup(parsed, "ErrorCode")
            if not hresult & 0x80000000 and isinstance(code, int) and code:
                hresult = code & 0xFFFFFFFF  # a failure reported only in the record
        raise HcnError(operation, hresult, message, record)

    @contextlib.contextmanager
    def _open(
        self, operation: str, call: Callable[[PVOID, PVOID], int]
    ) -> Iterator[ctypes.c_void_p]:
        """Run a call that hands out a namespace handle; the handle is closed on the way out."""
        handle, error = ctypes.c_void_p(), ctypes.c_void_p()
        try:
            hresult = call(ctypes.pointer(handle), ctypes.pointer(error))
            self._check(operation, hresult, error)
            yield handle
        finally:
            if handle.value:
                self.dll.HcnCloseNamespace(handle)
                handle.value = None

    def _query(self, handle: ctypes.c_void_p) -> dict[str, Any]:
        props, error = ctypes.c_void_p(), ctypes.c_void_p()
        try:
            hresult = self.dll.HcnQueryNamespaceProperties(
                handle, DEFAULT_QUERY, ctypes.pointer(props), ctypes.pointer(error)
            )
            self._check("HcnQueryNamespaceProperties", hresult, error)
        finally:
            text = self._take(props)
        try:
            data = json.loads(text)
        except ValueError:
            raise SystemError_(
                f"HcnQueryNamespaceProperties returned invalid JSON: {text[:200]!r}"
            ) from None
        if not isinstance(data, dict):
            raise SystemError_(f"HcnQueryNamespaceProperties returned {type(data).__name__}")
        return data

    def _delete(self, value: uuid.UUID) -> None:
        guid, error = GUID.of(value), ctypes.c_void_p()
        hresult = self.dll.HcnDeleteNamespace(ctypes.pointer(guid), ctypes.pointer(error))
        try:
            self._check("HcnDeleteNamespace", hresult, error)
        except HcnError as exc:
            if exc.hresult != ERROR_NOT_FOUND:
                raise
