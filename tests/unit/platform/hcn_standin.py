"""An in-memory computenetwork.dll that enforces the HCN call contract.

It takes the same ctypes arguments as the real DLL (GUID pointers, ``str`` for PCWSTR,
``pointer(c_void_p())`` out slots), hands out real wide-string buffers that must be given back
through ``CoTaskMemFree``, and answers with the HRESULTs HCN uses. ``problems()`` lists every
breach of the contract: unclosed or double-closed handles, unfreed or double-freed strings.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ctrnet.platform._hcn_windows import ERROR_NOT_FOUND, GUID

E_HANDLE = 0x80070006
E_POINTER = 0x80004003
E_ACCESSDENIED = 0x80070005
ERROR_ALREADY_EXISTS = 0x800700B7
HCN_E_INVALID_JSON = 0x803B001B
HCN_E_REQUEST_UNSUPPORTED = 0x803B0015
NAMESPACE_TYPES = ("Host", "HostDefault", "Guest", "GuestDefault")


def signed(hresult: int) -> int:
    """An HRESULT as the C ``long`` ctypes returns."""
    return ctypes.c_long(hresult).value


@dataclass
class Fault:
    hresult: int
    record: str


@dataclass
class StandInHcn:
    """The namespace half of computenetwork.dll, plus ``CoTaskMemFree``."""

    #: key HCN uses for the namespace ID in properties ("ID"; some versions say "Id")
    id_key: str = "ID"
    namespaces: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    #: namespaces a container still references: deleting them fails as on real HCN
    referenced: set[uuid.UUID] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _handles: dict[int, uuid.UUID] = field(default_factory=dict)
    _strings: dict[int, ctypes.Array[ctypes.c_wchar]] = field(default_factory=dict)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _next_handle: itertools.count[int] = field(default_factory=lambda: itertools.count(0x1000))
    _compartment: itertools.count[int] = field(default_factory=lambda: itertools.count(2))

    # --- test controls ---------------------------------------------------------------------------

    def fail_next(self, function: str, hresult: int, error: str = "", *, record: str = "") -> None:
        """Make the next call of ``function`` answer ``hresult`` with an error record.

        ``error`` becomes a standard record; ``record`` is used verbatim instead.
        """
        text = record or (
            json.dumps({"Success": False, "Error": error, "ErrorCode": hresult}) if error else ""
        )
        self._faults.setdefault(function, []).append(Fault(hresult, text))

    def problems(self) -> list[str]:
        """Every breach of the call contract so far, plus what is still open or unfreed."""
        found = list(self.violations)
        found += [f"handle 0x{h:x} never closed" for h in self._handles]
        found += [f"string {ctypes.wstring_at(a)!r} never freed" for a in self._strings]
        return found

    # --- helpers ---------------------------------------------------------------------------------

    def _alloc(self, text: str) -> int:
        buf = ctypes.create_unicode_buffer(text)
        address = ctypes.addressof(buf)
        self._strings[address] = buf
        return address

    def _slot(self, name: str, out: Any) -> ctypes.c_void_p | None:
        if not isinstance(out, ctypes._Pointer) or out._type_ is not ctypes.c_void_p:
            self.violations.append(f"{name}: out parameter is not a pointer to a pointer")
            return None
        slot: ctypes.c_void_p = out.contents
        if slot.value:
            self.violations.append(f"{name}: out slot not NULL on entry (would leak)")
        return slot

    def _guid(self, name: str, value: Any) -> uuid.UUID | None:
        if not isinstance(value, ctypes._Pointer) or value._type_ is not GUID:
            self.violations.append(f"{name}: id is not a GUID pointer")
            return None
        guid: GUID = value.contents
        return guid.to_uuid()

    def _answer(self, error_slot: ctypes.c_void_p | None, hresult: int, error: str = "") -> int:
        if error and error_slot is not None:
            record = {"Success": False, "Error": error, "ErrorCode": hresult}
            error_slot.value = self._alloc(json.dumps(record))
        return signed(hresult)

    def _fault(self, name: str, error_slot: ctypes.c_void_p | None) -> Fault | None:
        queue = self._faults.get(name)
        if not queue:
            return None
        fault = queue.pop(0)
        if fault.record and error_slot is not None:
            error_slot.value = self._alloc(fault.record)
        return fault

    def _handle(self, name: str, value: Any) -> uuid.UUID | None:
        raw = value.value if isinstance(value, ctypes.c_void_p) else value
        if not isinstance(raw, int) or raw not in self._handles:
            self.violations.append(f"{name}: handle {raw!r} is not open")
            return None
        return self._handles[raw]

    # --- the DLL ---------------------------------------------------------------------------------

    def HcnCreateNamespace(self, id: Any, settings: Any, namespace: Any, error: Any) -> int:
        self.calls.append("HcnCreateNamespace")
        handle_slot = self._slot("HcnCreateNamespace", namespace)
        error_slot = self._slot("HcnCreateNamespace", error)
        wanted = self._guid("HcnCreateNamespace", id)
        if handle_slot is None or error_slot is None or wanted is None:
            return signed(E_POINTER)
        fault = self._fault("HcnCreateNamespace", error_slot)
        if fault is not None and fault.hresult & 0x80000000:
            return signed(fault.hresult)
        try:
            doc = json.loads(settings)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except (TypeError, ValueError):
            return self._answer(error_slot, HCN_E_INVALID_JSON, "Invalid JSON document string.")
        schema = doc.get("SchemaVersion")
        ns_type = doc.get("Type", "Host")
        if (
            not isinstance(schema, dict)
            or schema.get("Major") != 2
            or ns_type not in NAMESPACE_TYPES
        ):
            return self._answer(
                error_slot,
                0x803B000A,
                "The provided network configuration is invalid or missing parameters.",
            )
        new_id = uuid.uuid4() if wanted.int == 0 else wanted
        if new_id in self.namespaces:
            return self._answer(
                error_slot,
                ERROR_ALREADY_EXISTS,
                "Cannot create a file when that file already exists.",
            )
        self.namespaces[new_id] = {
            self.id_key: str(new_id).upper(),
            "NamespaceId": next(self._compartment),
            "Type": ns_type,
            "Resources": [],
            "SchemaVersion": schema,
        }
        handle = next(self._next_handle)
        self._handles[handle] = new_id
        handle_slot.value = handle
        return signed(fault.hresult) if fault is not None else 0

    def HcnOpenNamespace(self, id: Any, namespace: Any, error: Any) -> int:
        self.calls.append("HcnOpenNamespace")
        handle_slot = self._slot("HcnOpenNamespace", namespace)
        error_slot = self._slot("HcnOpenNamespace", error)
        wanted = self._guid("HcnOpenNamespace", id)
        if handle_slot is None or error_slot is None or wanted is None:
            return signed(E_POINTER)
        fault = self._fault("HcnOpenNamespace", error_slot)
        if fault is not None and fault.hresult & 0x80000000:
            return signed(fault.hresult)
        if wanted not in self.namespaces:
            return self._answer(error_slot, ERROR_NOT_FOUND, "Element not found.")
        handle = next(self._next_handle)
        self._handles[handle] = wanted
        handle_slot.value = handle
        return signed(fault.hresult) if fault is not None else 0

    def HcnQueryNamespaceProperties(
        self, namespace: Any, query: Any, props: Any, error: Any
    ) -> int:
        self.calls.append("HcnQueryNamespaceProperties")
        props_slot = self._slot("HcnQueryNamespaceProperties", props)
        error_slot = self._slot("HcnQueryNamespaceProperties", error)
        if props_slot is None or error_slot is None:
            return signed(E_POINTER)
        target = self._handle("HcnQueryNamespaceProperties", namespace)
        if target is None:
            return signed(E_HANDLE)
        fault = self._fault("HcnQueryNamespaceProperties", error_slot)
        if fault is not None and fault.hresult & 0x80000000:
            return signed(fault.hresult)
        try:
            json.loads(query)
        except (TypeError, ValueError):
            return self._answer(error_slot, HCN_E_INVALID_JSON, "Invalid JSON document string.")
        if target not in self.namespaces:
            return self._answer(error_slot, ERROR_NOT_FOUND, "Element not found.")
        props_slot.value = self._alloc(json.dumps(self.namespaces[target]))
        return signed(fault.hresult) if fault is not None else 0

    def HcnDeleteNamespace(self, id: Any, error: Any) -> int:
        self.calls.append("HcnDeleteNamespace")
        error_slot = self._slot("HcnDeleteNamespace", error)
        wanted = self._guid("HcnDeleteNamespace", id)
        if error_slot is None or wanted is None:
            return signed(E_POINTER)
        fault = self._fault("HcnDeleteNamespace", error_slot)
        if fault is not None and fault.hresult & 0x80000000:
            return signed(fault.hresult)
        if wanted not in self.namespaces:
            return self._answer(error_slot, ERROR_NOT_FOUND, "Element not found.")
        if wanted in self.referenced:
            return self._answer(
                error_slot, HCN_E_REQUEST_UNSUPPORTED, "The request is not supported."
            )
        del self.namespaces[wanted]
        return signed(fault.hresult) if fault is not None else 0

    def HcnCloseNamespace(self, namespace: Any) -> int:
        self.calls.append("HcnCloseNamespace")
        raw = namespace.value if isinstance(namespace, ctypes.c_void_p) else namespace
        if self._handle("HcnCloseNamespace", namespace) is None:
            return signed(E_HANDLE)
        del self._handles[raw]
        return 0

    def CoTaskMemFree(self, pointer: Any) -> None:
        raw = pointer.value if isinstance(pointer, ctypes.c_void_p) else pointer
        if not raw:
            return  # freeing NULL is allowed
        if raw not in self._strings:
            self.violations.append(
                f"CoTaskMemFree(0x{raw:x}): not allocated by HCN, or freed twice"
            )
            return
        del self._strings[raw]
